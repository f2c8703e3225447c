/** GF addressing (mCSD): national directory, publisher (ITI-130), update client (ITI-90/91), endpoint choice. */
export * from './constants.ts';
export { registerDirectoryRoutes, directoryCapabilityStatement, directoryReader, type DirectoryRoutesOptions, type DirectoryCaller, type Dispatch } from './directory.ts';
export { authorizeRequest, type DirectoryReader, type PolicyContext } from './policy.ts';
export { startDirectory, type DirectoryServiceOptions, type RunningDirectory } from './service.ts';
export { buildDirectoryBundle, publish, type OrganisationEntries, type EndpointSpec, type LocationSpec, type DepartmentSpec, type ServiceSpec, type PublishResult } from './publisher.ts';
export { DirectoryUpdateClient, ConcurrentSyncError, type UpdateClientOptions, type SyncReport, type TypeReport } from './update-client.ts';
export { chooseEndpoint, declaredFhirVersions, type EndpointNeed, type DirectoryView, type EndpointChoice } from './endpoint-choice.ts';
export { findEndpoint, replicaView } from './replica.ts';
export { fhirRequest, fhirOk, retryAfterMs, DirectoryHttpError, type HttpOptions } from './http.ts';
