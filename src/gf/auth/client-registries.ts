/**
 * Who may ask an authorisation server for a token. Two registries, one per kind of server:
 *
 * - `directoryClientRegistry` — a provider node's token servers (`/auth/{tenant}`): the client is a care
 *   organisation (client_id = its URA) that is active in the addressing directory (the node's replica); it proves
 *   who it is with its UZI-style server certificate in the assertion's `x5c`, issued by the trusted CA for that URA.
 *   An organisation that is not (or no longer) in the directory gets no token.
 * - `certificateClientRegistry` — the national services' token server: every organisation holding a certificate
 *   of the trusted CA for its URA is registered (the UZI register is the registration; the addressing directory
 *   itself needs tokens to be filled, so it cannot be the register here).
 */
import type { RegisteredClient, ResolveClient } from './token-server.ts';

const URA = /^\d{8}$/;

export interface KnownOrganisation {
  name?: string;
  organizationType?: string;
}

export function directoryClientRegistry(o: { organisation: (ura: string) => Promise<KnownOrganisation | undefined>; scopes?: string[] }): ResolveClient {
  return async (clientId) => {
    if (!URA.test(clientId)) return undefined;
    const org = await o.organisation(clientId);
    if (!org) return undefined;
    return { clientId, ura: clientId, name: org.name, jwks: { keys: [] }, certificateChain: true, scopes: o.scopes } satisfies RegisteredClient;
  };
}

export function certificateClientRegistry(o: { scopes?: string[] } = {}): ResolveClient {
  return (clientId) => (URA.test(clientId) ? { clientId, ura: clientId, jwks: { keys: [] }, certificateChain: true, scopes: o.scopes } : undefined);
}
