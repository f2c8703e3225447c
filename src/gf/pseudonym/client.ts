/**
 * Pseudonymisation client (runs beside the data holder): identifier → JCS → HKDF (recipient-scoped) → OPRF
 * blind → POST /evaluate at the PRS → { evaluated_output (JWE for the recipient), blind_factor }.
 * The identifier and the HKDF output never leave this function; the blind factor is returned only to be
 * forwarded to the recipient in the same transaction and must not be logged or stored.
 */
import { hkdfInput, type PersonIdentifier, type Recipient } from './identifier.ts';
import { b64u, blind } from './oprf.ts';
import { encodeNviIdentifier, type NviIdentifierParts } from './recipient.ts';

export interface BlindedInput {
  blind_factor: string;
  blinded_input: string;
}

export function createBlindedInput(id: PersonIdentifier, recipient: Recipient): BlindedInput {
  const b = blind(hkdfInput(id, recipient));
  return { blind_factor: b64u.encode(b.blind), blinded_input: b64u.encode(b.blinded) };
}

export class PrsError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PrsError';
  }
}

export interface PseudonymClientOptions {
  /** PRS base, e.g. `http://127.0.0.1:8080/national/prs` (the client posts to `${prsUrl}/evaluate`). */
  prsUrl: string;
  /** Bearer token with scope `prs:read`. */
  token?: () => string | Promise<string>;
  /** The whole Authorization header value instead (another scheme, or a caller that builds it); wins over token. */
  authorization?: () => string | Promise<string>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export class PseudonymClient {
  constructor(private readonly opts: PseudonymClientOptions) {}

  async #authorization(): Promise<string> {
    if (this.opts.authorization) return this.opts.authorization();
    if (!this.opts.token) throw new PrsError(401, 'PseudonymClient has neither a token nor an authorization');
    return `Bearer ${await this.opts.token()}`;
  }

  /** One evaluation for one recipient; returns the pair the recipient needs. */
  async evaluate(id: PersonIdentifier, recipient: Recipient, o: { keyVersion?: number } = {}): Promise<NviIdentifierParts> {
    const input = createBlindedInput(id, recipient);
    const f = this.opts.fetch ?? fetch;
    const res = await f(`${this.opts.prsUrl.replace(/\/+$/, '')}/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: await this.#authorization() },
      body: JSON.stringify({
        blinded_input: input.blinded_input,
        recipient_organization: recipient.organization,
        recipient_scope: recipient.scope,
        ...(o.keyVersion !== undefined ? { key_version: o.keyVersion } : {}),
      }),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new PrsError(res.status, `PRS /evaluate answered ${res.status}: ${diagnostics(text)}`);
    const body = JSON.parse(text) as { evaluated_output?: unknown };
    if (typeof body.evaluated_output !== 'string') throw new PrsError(502, 'PRS /evaluate answered without evaluated_output');
    return { evaluated_output: body.evaluated_output, blind_factor: input.blind_factor };
  }

  /** The NVI identifier value (base64url JSON of evaluated_output + blind_factor), single use. */
  async nviIdentifier(id: PersonIdentifier, recipient: Recipient): Promise<string> {
    return encodeNviIdentifier(await this.evaluate(id, recipient));
  }
}

function diagnostics(text: string): string {
  try {
    const o = JSON.parse(text) as { issue?: { diagnostics?: string }[] };
    return o.issue?.map((i) => i.diagnostics).join('; ') ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
