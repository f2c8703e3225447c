/** mTLS helpers: the peer certificate of a request and its RFC 8705 thumbprint. */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { x5tS256 } from './pki.ts';

export interface PeerCertificate {
  /** DER of the client certificate. */
  der: Buffer;
  /** base64url SHA-256 of the DER (`cnf.x5t#S256`). */
  x5tS256: string;
  /** Did the TLS layer verify it against the server's configured CAs? */
  authorized: boolean;
  authorizationError?: string;
}

/**
 * The client certificate presented on the request's TLS connection, or undefined (plain HTTP, or no certificate).
 * Pass `req.raw` from Fastify. The server must be created with `requestCert: true` (and the CAs in `ca`).
 */
export function peerCertificateOf(req: IncomingMessage): PeerCertificate | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate(false);
  if (!cert || !cert.raw || cert.raw.length === 0) return undefined;
  const err = socket.authorizationError;
  return {
    der: cert.raw,
    x5tS256: x5tS256(cert.raw),
    authorized: socket.authorized === true,
    authorizationError: err === null || err === undefined ? undefined : String(err),
  };
}
