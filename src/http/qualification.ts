/**
 * Test-only qualification mode (`schakel serve --qualification-tokens FILE`): each bearer token of the
 * Nictiz qualification configuration names one patient, and every request is scoped to that patient's
 * compartment — the MedMij rule that the patient comes from the token, never from the URL.
 * The real MedMij OAuth flow replaces this with patient access; this mode never runs by default.
 */
import { readFileSync } from 'node:fs';

interface TokenEntry {
  accessToken: string;
  resourceId: string;
}

export function loadQualificationTokens(file: string): (authorization: string | undefined) => { type: 'Patient'; id: string } | 'unauthorized' {
  let entries: TokenEntry[];
  try {
    entries = JSON.parse(readFileSync(file, 'utf8')) as TokenEntry[];
  } catch (e) {
    throw new Error(`Cannot read qualification tokens from ${file}: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(entries)) throw new Error(`${file} must hold a JSON array of { accessToken, resourceId }`);
  const map = new Map<string, string>();
  for (const e of entries) {
    const token = e.accessToken.replace(/^Bearer\s+/i, '').trim();
    map.set(token, e.resourceId);
  }
  return (authorization) => {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    const id = m ? map.get(m[1].trim()) : undefined;
    return id ? { type: 'Patient', id } : 'unauthorized';
  };
}
