/**
 * The two log streams of a node, both JSON lines (pino):
 *
 *   ops       what the node does: one line per HTTP request (method, route or FHIR interaction + resource type,
 *             tenant, status, duration, correlation id), start, stop, unexpected errors. For operators.
 *   security  what a security officer or SIEM watches: refused tokens and access, emergency access (break
 *             the glass), a broken audit chain, a start without authorisation.
 *
 * Neither carries personal data: they name interactions and resource types, never URLs, ids, query values or
 * names. Who accessed which patient is the NEN 7513 audit log's job (src/gf/audit), which is access-controlled
 * and hash-chained; the security stream points into it by correlation id. As a safety net both streams pass
 * every line through redactBsn (src/ops/redact.ts).
 */
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { redactBsn } from './redact.ts';

export interface LogOptions {
  /** Destination of the operations stream (default: stdout). */
  ops?: DestinationStream;
  /**
   * Destination of the security stream (default: stderr). Stderr rather than a file in the data directory:
   * the process supervisor (systemd journal, container runtime) already collects it apart from stdout and
   * can ship it to a SIEM with its own retention, a PostgreSQL node has no data directory, and the node then
   * needs no file rotation of its own.
   */
  security?: DestinationStream;
  /** Level of the operations stream (default info). The security stream always logs at info and above. */
  level?: Level | 'silent';
}

export interface Loggers {
  ops: Logger;
  security: Logger;
}

export function createLoggers(o: LogOptions = {}): Loggers {
  return {
    ops: streamLogger('ops', o.level ?? 'info', o.ops ?? pino.destination({ dest: 1, sync: true })),
    security: streamLogger('security', 'info', o.security ?? pino.destination({ dest: 2, sync: true })),
  };
}

function streamLogger(stream: 'ops' | 'security', level: Level | 'silent', dest: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { stream, pid: process.pid },
      // Epoch-millisecond time (pino's default): an ISO string would add about half again to the cost of a line.
      hooks: { streamWrite: redactBsn },
    },
    dest,
  );
}

/** The security events a node emits; `event` names one, the other fields are from SECURITY_FIELDS. */
export type SecurityEventName = 'token-refused' | 'access-refused' | 'emergency-access' | 'audit-chain-broken' | 'auth-disabled' | (string & {});
export type SecurityEvent = { event: SecurityEventName } & Record<string, string | number | boolean | undefined>;

/**
 * Fields a security event may carry. Anything else is dropped: in particular the UZI number of the
 * professional (the enforcement point passes it) — the audit record with the same correlation id names
 * who it was, behind the audit log's access control.
 */
const SECURITY_FIELDS = new Set(['event', 'tenant', 'reason', 'ura', 'role', 'purpose', 'correlationId', 'status', 'checked', 'brokenAt', 'mode']);

/**
 * A sink for security events, shaped as the enforcement point's `EnforcementDeps.security` callback. Every
 * event is logged at warn, a broken audit chain (tampering) at error.
 */
export function securitySink(logger: Logger): (event: SecurityEvent | Record<string, string | number | boolean | undefined>) => void {
  return (event) => {
    const clean: Record<string, string | number | boolean> = {};
    for (const k in event) {
      const v = event[k];
      if (v !== undefined && SECURITY_FIELDS.has(k)) clean[k] = v;
    }
    const name = String(event.event ?? 'unknown');
    logger[name === 'audit-chain-broken' ? 'error' : 'warn'](clean, name);
  };
}

/** For `schakel audit verify` (and any later scheduled check): a broken chain is a security event. */
export function auditChainBroken(security: ReturnType<typeof securitySink>, result: { checked: number; brokenAt?: number; reason?: string }): void {
  security({ event: 'audit-chain-broken', checked: result.checked, brokenAt: result.brokenAt, reason: result.reason });
}
