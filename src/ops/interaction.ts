/**
 * Names the FHIR interaction of a request from its method and path below the tenant's base — for logs and
 * metric labels, so both are closed sets: the interaction is one of INTERACTIONS or a known operation name,
 * the resource type a real R4 resource type or '-'. Nothing from the URL that is not in those sets (ids,
 * unknown segments, query values) ever comes out of here.
 */
import { isResourceType } from '../fhir/definitions/model.ts';

export type Interaction =
  | 'read'
  | 'vread'
  | 'update'
  | 'patch'
  | 'delete'
  | 'create'
  | 'search'
  | 'history'
  | 'capabilities'
  | 'batch/transaction'
  | 'operation'
  | 'unknown'
  | `$${string}`;

export interface Classified {
  interaction: Interaction;
  /** An R4 resource type, or '-' (system level or not a resource type). */
  type: string;
}

/** Operations the node serves (src/server/dispatch.ts, src/bulk); any other `$name` is logged as 'operation'. */
const OPERATIONS = new Set(['$validate', '$everything', '$lastn', '$purge', '$export', '$import', '$bulk-status']);

const NONE = '-';
const op = (name: string): Interaction => (OPERATIONS.has(name) ? (name as Interaction) : 'operation');

export function classify(method: string, path: string): Classified {
  const parts = path.split('/').filter(Boolean);
  const m = method === 'HEAD' ? 'GET' : method;
  const [first, second, third] = parts;
  if (parts.length === 0) return { interaction: m === 'GET' ? 'search' : m === 'POST' ? 'batch/transaction' : 'unknown', type: NONE };
  if (parts.length === 1 && first === 'metadata') return { interaction: 'capabilities', type: NONE };
  if (parts.length === 1 && first === '_history') return { interaction: 'history', type: NONE };
  if (first.startsWith('$')) return { interaction: op(first), type: NONE };
  if (!isResourceType(first)) return { interaction: 'unknown', type: NONE };
  const type = first;
  if (parts.length === 1) {
    const interaction: Interaction = m === 'GET' ? 'search' : m === 'POST' ? 'create' : m === 'PUT' ? 'update' : m === 'PATCH' ? 'patch' : m === 'DELETE' ? 'delete' : 'unknown';
    return { interaction, type };
  }
  if (parts.length === 2) {
    if (second === '_search') return { interaction: 'search', type };
    if (second === '_history') return { interaction: 'history', type };
    if (second.startsWith('$')) return { interaction: op(second), type };
    const interaction: Interaction = m === 'GET' ? 'read' : m === 'PUT' ? 'update' : m === 'PATCH' ? 'patch' : m === 'DELETE' ? 'delete' : 'unknown';
    return { interaction, type };
  }
  if (parts.length === 3 && third.startsWith('$')) return { interaction: op(third), type };
  if (third === '_history') return { interaction: parts.length === 3 ? 'history' : parts.length === 4 ? 'vread' : 'unknown', type };
  return { interaction: 'unknown', type };
}
