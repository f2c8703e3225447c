/** Keys a role keeps across restarts, in its data directory (private keys with mode 0600). */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { signingKeyFromPem, type SigningKey } from '../gf/auth/token-server.ts';

/**
 * An ES256 token-signing key, made on first use. Kept, because tokens issued before a restart must still verify
 * for their (≤ 5 minute) lifetime, and peers cache the JWKS.
 */
export function persistentSigningKey(file: string): SigningKey {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
  }
  return signingKeyFromPem(readFileSync(file, 'utf8'));
}

/**
 * An RSA-OAEP-256 key pair of a PRS recipient (the NVI), made on first use. Kept, because pseudonyms the recipient
 * opened before a restart must stay the same afterwards: registrations made earlier must stay findable.
 */
export async function persistentRecipientKey(file: string, kid: string): Promise<{ publicJwk: JWK; privateKey: Awaited<ReturnType<typeof importJWK>> }> {
  let jwk: JWK;
  if (existsSync(file)) jwk = JSON.parse(readFileSync(file, 'utf8')) as JWK;
  else {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
    jwk = { ...(await exportJWK(privateKey)), kid, alg: 'RSA-OAEP-256' };
    writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  }
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = jwk;
  return { publicJwk, privateKey: await importJWK(jwk, 'RSA-OAEP-256') };
}
