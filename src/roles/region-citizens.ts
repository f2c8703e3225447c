/**
 * The citizens of a generated region (src/synth) for the citizen test IdP: one entry per BSN, read from the region's
 * NDJSON files (`<dir>/<tenant>/Patient.ndjson`) line by line, so only the registry itself is held (a person treated
 * by several organisations appears in several files and is listed once). The synthetic region records no family
 * relations, so there are no parent-child relations or registered mandates.
 */
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Patient } from 'fhir/r4';
import { isValidBsn, type Citizen, type MandateRegistry } from '../gf/auth/mandates.ts';

const BSN_SYSTEM = 'http://fhir.nl/fhir/NamingSystem/bsn';

/** The citizen a Patient describes: BSN, the name a person goes by (call name, else first given name), birth date. */
export function citizenOf(p: Patient): Citizen | undefined {
  const bsn = p.identifier?.find((i) => i.system === BSN_SYSTEM)?.value;
  const official = p.name?.find((n) => n.use === 'official') ?? p.name?.[0];
  const given = p.name?.find((n) => n.use === 'usual')?.given?.[0] ?? official?.given?.[0];
  if (!bsn || !isValidBsn(bsn) || !p.birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(p.birthDate) || !official?.family) return undefined;
  return { bsn, given: given ?? '', family: official.family, birthDate: p.birthDate };
}

export async function regionCitizens(dir: string): Promise<MandateRegistry> {
  const citizens: Citizen[] = [];
  const seen = new Set<string>();
  const tenants = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  for (const tenant of tenants) {
    const file = join(dir, tenant, 'Patient.ndjson');
    if (!existsSync(file)) continue;
    for await (const line of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      const c = citizenOf(JSON.parse(line) as Patient);
      if (!c || seen.has(c.bsn)) continue;
      seen.add(c.bsn);
      citizens.push(c);
    }
  }
  return { citizens, parentChild: [], mandates: [] };
}
