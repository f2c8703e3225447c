/** Opaque paging cursors: base64url JSON of the keyset position, so `next` links stay stable. */
import { badRequest } from '../fhir/outcome.ts';

export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeCursor<T>(value: string): T {
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as T;
  } catch {
    throw badRequest(`The paging cursor '${value}' is not valid`, '_cursor');
  }
}
