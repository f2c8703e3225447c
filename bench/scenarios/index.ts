/** The scenarios `npm run bench -- --scenarios a,b,c` can pick, by name, in the order they run. */
import { fiveSearchesScenario, ingestScenario, readScenario } from './classic.ts';
import { crud } from './crud.ts';
import { importScenario } from './import.ts';
import { search } from './search.ts';
import type { Scenario } from './types.ts';

export const SCENARIOS: Scenario[] = [ingestScenario, readScenario, fiveSearchesScenario, crud, search, importScenario];

export function scenariosByName(names: string[]): Scenario[] {
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return SCENARIOS.filter((s) => names.includes(s.name));
}
