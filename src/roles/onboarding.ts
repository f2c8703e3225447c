/**
 * Joining the network as a care organisation: keys and a UZI-style certificate from the (test) PKI, then the
 * organisation publishes its own entries in the national addressing directory (mCSD ITI-130) with a directory
 * token. Idempotent: existing keys are reused and the directory bundle updates entries in place.
 */
import { buildDirectoryBundle, publish, type OrganisationEntries } from '../gf/addressing/index.ts';
import type { KeyStore } from '../gf/auth/pki.ts';
import type { OrganisationTokens } from '../gf/auth/token-client.ts';
import { nationalPaths } from './national.ts';

export async function ensureOrganisationKeys(keys: KeyStore, org: { ura: string; name: string; agb?: string }): Promise<void> {
  if (!keys.org(org.ura)) await keys.issue({ ura: org.ura, name: org.name, agb: org.agb });
}

export async function onboard(keys: KeyStore, tokens: OrganisationTokens, nationalBase: string, entries: OrganisationEntries): Promise<void> {
  await ensureOrganisationKeys(keys, entries);
  const p = nationalPaths(nationalBase);
  await publish(p.directory, buildDirectoryBundle(entries), {
    authorization: () => tokens.authorization({ ura: entries.ura, tokenEndpoint: p.token('directory'), scope: 'directory:write' }),
    fetch: tokens.fetchFor(entries.ura),
  });
}
