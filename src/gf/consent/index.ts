/** The consent registry (national role, Mitz-like). The closed question is decided in ./decide.ts. */
export { DEFAULT_CATALOGUE, CatalogueIndex, SYSTEMS, ACTOR_ROLES, NL_GF_RESOURCE_TYPES, nlGfCategoryOfResource } from './catalogue.ts';
export type { ConsentCatalogue, DataCategory, ProviderCategory, Purpose, LegalBasis } from './catalogue.ts';
export { decide, openQuestion } from './decide.ts';
export type { Decision, DecisionBasis, DecisionCode, OpenAnswer, Party } from './decide.ts';
export { ConsentRegistry, CONSENT_TENANT } from './registry.ts';
export type { ConsentRegistryOptions, DecideRequest, OpenRequest, PartyInput, PatientRef, Principal } from './registry.ts';
export { registerConsentRoutes, decisionParameters } from './routes.ts';
export type { ConsentRoutesOptions } from './routes.ts';
export { ConsentClient } from './client.ts';
export type { ConsentClientOptions } from './client.ts';
