/** Public API of the synthetic region generator. */
export { generateRegion, DEFAULT_AS_OF, MAX_PATIENTS, type GenerateOptions, type RegionSummary, type TenantSummary } from './generate.ts';
export { synthCommand } from './cli.ts';
export { passesElevenTest, BsnPool, BSN_TEST_CAPACITY } from './identifiers.ts';
export { Rng } from './prng.ts';
export { minimalPdf } from './pdf.ts';
export { PROFILE } from './profiles.ts';
