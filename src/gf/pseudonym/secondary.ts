/**
 * Secondary-use pseudonyms, per project and key version, computed by the PRS with keys only it holds:
 * - reversible:   `r{v}.` + base64url(iv ‖ AES-256-GCM(JCS(identifier)) ‖ tag) with a synthetic IV
 *                 iv = HMAC-SHA256(sivKey, JCS)[0..12) — deterministic (same identifier ⇒ same pseudonym in a
 *                 project) and authenticated; the IV is re-checked on decryption (SIV construction).
 * - irreversible: `i{v}.` + base64url(HMAC-SHA256(projectKey, JCS)) — no way back.
 * Different projects get unrelated keys (HKDF with the project id), so their pseudonyms cannot be linked.
 */
import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalIdentifier, type PersonIdentifier } from './identifier.ts';
import type { PrsKeyStore } from './keys.ts';

export type SecondaryMode = 'reversible' | 'irreversible';

export function pseudonymiseSecondary(keys: PrsKeyStore, project: string, mode: SecondaryMode, id: PersonIdentifier, version = keys.currentVersion): string {
  const plain = Buffer.from(canonicalIdentifier(id), 'utf8');
  if (mode === 'irreversible') {
    return `i${version}.${createHmac('sha256', keys.secondaryKey(version, project, 'irreversible')).update(plain).digest('base64url')}`;
  }
  const iv = createHmac('sha256', keys.secondaryKey(version, project, 'reversible-siv')).update(plain).digest().subarray(0, 12);
  const c = createCipheriv('aes-256-gcm', keys.secondaryKey(version, project, 'reversible-enc'), iv);
  c.setAAD(Buffer.from(`${project}|${version}`));
  const ct = Buffer.concat([c.update(plain), c.final()]);
  return `r${version}.${Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64url')}`;
}

/** Reverses a reversible pseudonym; undefined when it is not one of this project's (or was tampered with). */
export function depseudonymiseSecondary(keys: PrsKeyStore, project: string, pseudonym: string): PersonIdentifier | undefined {
  const m = /^r(\d{1,6})\.([A-Za-z0-9_-]+)$/.exec(pseudonym);
  if (!m) return undefined;
  const version = Number(m[1]);
  if (!keys.has(version)) return undefined;
  const raw = Buffer.from(m[2], 'base64url');
  if (raw.length < 12 + 16 + 2) return undefined;
  const iv = raw.subarray(0, 12);
  const tag = raw.subarray(raw.length - 16);
  try {
    const d = createDecipheriv('aes-256-gcm', keys.secondaryKey(version, project, 'reversible-enc'), iv);
    d.setAAD(Buffer.from(`${project}|${version}`));
    d.setAuthTag(tag);
    const plain = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]);
    const expectIv = createHmac('sha256', keys.secondaryKey(version, project, 'reversible-siv')).update(plain).digest().subarray(0, 12);
    if (!timingSafeEqual(expectIv, iv)) return undefined;
    const o = JSON.parse(plain.toString('utf8')) as PersonIdentifier;
    return { landCode: o.landCode, type: o.type, value: o.value };
  } catch {
    return undefined;
  }
}
