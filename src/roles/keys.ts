/** Keys a role keeps across restarts, in its data directory (private keys with mode 0600). */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
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
