/** Public API of the conformance tool (`schakel conformance`). */
export { runConformance, type ConformanceOptions, type ConformanceResult } from './run.ts';
export { conformanceCommand } from './cli.ts';
export { runTestScript, type RunScriptOptions, type ScriptRun } from './runner.ts';
export { checkQueryParamsInSelfLink } from './selflink.ts';
export { expandPlaceholders, expandTree, addToDate } from './placeholders.ts';
