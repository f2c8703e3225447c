/**
 * "Where does this patient have data of this kind?" as a requesting organisation asks it: pseudonymise the BSN for
 * the NVI through the PRS (blinded; only the NVI can open the answer), search the NVI by that single-use
 * identifier and the data category, and find each custodian's FHIR endpoint in the node's replica of the addressing
 * directory. The BSN leaves the requester only blinded.
 */
import type { Bundle, List, Reference } from 'fhir/r4';
import type { ProviderNode } from '../node/provider-node.ts';
import { findEndpoint } from '../gf/addressing/index.ts';
import type { OrganisationTokens } from '../gf/auth/token-client.ts';
import { CUSTODIAN_EXTENSION, NVI_IDENTIFIER_SYSTEM } from '../gf/localisation/list.ts';
import { PseudonymClient } from '../gf/pseudonym/client.ts';
import { bsnIdentifier } from '../gf/pseudonym/identifier.ts';
import { NVI_RECIPIENT, nationalPaths } from './national.ts';

export interface Location {
  custodian: string;
  /** The custodian's FHIR base from the addressing directory, when it publishes one for the category. */
  fhirBase?: string;
  /** Why no endpoint was chosen, when none was. */
  reason?: string;
}

export async function localise(o: { node: ProviderNode; tokens: OrganisationTokens; nationalBase: string; ura: string; bsn: string; category: string }): Promise<Location[]> {
  const p = nationalPaths(o.nationalBase);
  const f = o.tokens.fetchFor(o.ura);
  const prs = new PseudonymClient({ prsUrl: p.prs, authorization: () => o.tokens.authorization({ ura: o.ura, tokenEndpoint: p.token('prs'), scope: 'prs:read' }), fetch: f });
  const identifier = await prs.nviIdentifier(bsnIdentifier(o.bsn), NVI_RECIPIENT);
  const query = new URLSearchParams({ 'subject:identifier': `${NVI_IDENTIFIER_SYSTEM}|${identifier}`, code: o.category });
  const res = await f(`${p.nvi}/List?${query.toString()}`, {
    headers: { accept: 'application/fhir+json', authorization: await o.tokens.authorization({ ura: o.ura, tokenEndpoint: p.token('nvi'), scope: 'nvi:read' }) },
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as Bundle<List> & { issue?: { diagnostics?: string }[] };
  if (!res.ok) throw new Error(`NVI search answered ${res.status}: ${body.issue?.[0]?.diagnostics ?? ''}`);
  const custodians = new Set<string>();
  for (const e of body.entry ?? []) {
    const ref = e.resource?.extension?.find((x) => x.url === CUSTODIAN_EXTENSION)?.valueReference as Reference | undefined;
    if (ref?.identifier?.value) custodians.add(ref.identifier.value);
  }
  const out: Location[] = [];
  for (const custodian of custodians) {
    const choice = await findEndpoint(o.node.dispatch, custodian, { payloadType: o.category });
    out.push({ custodian, fhirBase: choice.endpoint?.address, reason: choice.endpoint ? undefined : choice.reason });
  }
  return out;
}
