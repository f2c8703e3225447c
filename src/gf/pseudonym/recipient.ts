/**
 * Recipient side (e.g. the NVI): decrypt the PRS's JWE with the recipient's private key, check it is meant
 * for this recipient and scope, not expired and not seen before (single use: the jti is remembered until the
 * token expires), then de-blind with the client's blind factor to the stable, recipient-specific pseudonym.
 */
import { jwtDecrypt, type CryptoKey, type KeyObject } from 'jose';
import { OprfInputError, b64u, unblind } from './oprf.ts';

export const EVAL_SUBJECT_PREFIX = 'pseudonym:eval:';

/** Remembers token ids until they expire; `claim` returns false when the id was already used. */
export interface ReplayGuard {
  claim(jti: string, expiresAtSec: number): boolean | Promise<boolean>;
}

export class MemoryReplayGuard implements ReplayGuard {
  #seen = new Map<string, number>();
  constructor(private readonly now: () => number = () => Date.now()) {}

  claim(jti: string, expiresAtSec: number): boolean {
    const nowSec = this.now() / 1000;
    if (this.#seen.size > 1000) for (const [k, exp] of this.#seen) if (exp < nowSec - 60) this.#seen.delete(k);
    if (this.#seen.has(jti)) return false;
    this.#seen.set(jti, expiresAtSec);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}

export class PseudonymRejected extends Error {
  constructor(
    readonly reason: 'malformed' | 'decrypt' | 'expired' | 'audience' | 'scope' | 'replayed' | 'blind_factor',
    message: string,
  ) {
    super(message);
    this.name = 'PseudonymRejected';
  }
}

export interface OpenedPseudonym {
  /** base64url of the unblinded element: stable per (identifier, recipient, scope, key version). */
  pseudonym: string;
  keyVersion: number;
  scope: string;
}

export interface NviIdentifierParts {
  evaluated_output: string;
  blind_factor: string;
}

/** base64url(JSON {"evaluated_output","blind_factor"}) — the value in List.subject.identifier / subject:identifier. */
export function encodeNviIdentifier(p: NviIdentifierParts): string {
  return Buffer.from(JSON.stringify({ evaluated_output: p.evaluated_output, blind_factor: p.blind_factor }), 'utf8').toString('base64url');
}

export function decodeNviIdentifier(value: string): NviIdentifierParts | undefined {
  const bytes = b64u.decode(value);
  if (!bytes || bytes.length === 0) return undefined;
  try {
    const o = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
    if (typeof o.evaluated_output === 'string' && typeof o.blind_factor === 'string') return { evaluated_output: o.evaluated_output, blind_factor: o.blind_factor };
  } catch {
    return undefined;
  }
  return undefined;
}

export interface RecipientOptions {
  /** This recipient's organisation, e.g. `ura:90000901`. */
  organization: string;
  /** Scopes accepted (e.g. `['nationale-verwijsindex']`). */
  scopes: string[];
  privateKey: CryptoKey | KeyObject | Uint8Array;
  replay?: ReplayGuard;
  /** Expected issuer (`iss`) of the JWE claims. */
  issuer?: string;
  now?: () => number;
}

export class PseudonymRecipient {
  readonly replay: ReplayGuard;
  constructor(private readonly opts: RecipientOptions) {
    this.replay = opts.replay ?? new MemoryReplayGuard(opts.now);
  }

  async open(evaluatedOutput: string, blindFactor: string): Promise<OpenedPseudonym> {
    const now = this.opts.now ?? (() => Date.now());
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtDecrypt(evaluatedOutput, this.opts.privateKey, {
        audience: this.opts.organization,
        issuer: this.opts.issuer,
        currentDate: new Date(now()),
        keyManagementAlgorithms: ['RSA-OAEP-256', 'RSA-OAEP'],
        contentEncryptionAlgorithms: ['A256GCM'],
        requiredClaims: ['exp', 'jti', 'iat'],
      }));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new PseudonymRejected('expired', 'the evaluated_output has expired');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw new PseudonymRejected('audience', `the evaluated_output is not valid for this recipient: ${(e as Error).message}`);
      throw new PseudonymRejected('decrypt', 'the evaluated_output cannot be decrypted by this recipient');
    }
    const scope = payload.scope;
    if (typeof scope !== 'string' || !this.opts.scopes.includes(scope)) throw new PseudonymRejected('scope', 'the evaluated_output was made for another scope');
    const exp = payload.exp as number;
    if (exp - (payload.iat as number) > 60) throw new PseudonymRejected('expired', 'the evaluated_output lives longer than 60 s');
    const subject = payload.subject;
    if (typeof subject !== 'string' || !subject.startsWith(EVAL_SUBJECT_PREFIX)) throw new PseudonymRejected('malformed', 'the evaluated_output has no evaluation subject');
    const evaluated = b64u.decode(subject.slice(EVAL_SUBJECT_PREFIX.length));
    const blind = b64u.decode(blindFactor);
    if (!blind || blind.length !== 32) throw new PseudonymRejected('blind_factor', 'blind_factor must be a base64url 32-byte scalar');
    if (!(await this.replay.claim(payload.jti as string, exp))) throw new PseudonymRejected('replayed', 'the evaluated_output was already used');
    try {
      return { pseudonym: b64u.encode(unblind(blind, evaluated ?? new Uint8Array())), keyVersion: Number(payload.key_version ?? 0), scope };
    } catch (e) {
      if (e instanceof OprfInputError) throw new PseudonymRejected('blind_factor', `cannot de-blind: ${e.message}`);
      throw e;
    }
  }

  /** Opens the NVI identifier form (base64url JSON of evaluated_output + blind_factor). */
  async openNviIdentifier(value: string): Promise<OpenedPseudonym> {
    const parts = decodeNviIdentifier(value);
    if (!parts) throw new PseudonymRejected('malformed', 'the identifier is not base64url JSON with evaluated_output and blind_factor');
    return this.open(parts.evaluated_output, parts.blind_factor);
  }
}
