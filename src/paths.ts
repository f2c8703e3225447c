/**
 * Well-known locations. `../shared` (beside the checkout) holds the FHIR packages, examples and TestScripts;
 * they are licensed for testing only, so the project reads them in place and never copies them.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_DIR = process.env.SCHAKEL_SHARED_DIR ?? resolve(REPO_ROOT, '..', 'shared');
export const sharedPath = (...parts: string[]): string => resolve(SHARED_DIR, ...parts);
