// MCP tools through this daemon's own REST front door, for a fleet node (`corral serve --cluster`): there the REST API
// answers for every node's sessions (the fleet face lists the fleet, places creates by room, routes each session's
// calls to its node with the cluster token), so the tools see and drive the whole fleet by being a REST client of
// this node, exactly like `corral mcp` over stdio (RemoteBackend). One loopback request per tool call.
// The caller's credential goes only to this same daemon: the owner's calls carry the daemon's client token, a scoped
// caller's carry its own token again, so the door confines them as it confines that token on REST (and the node that
// answers gets the caller's scope from the fleet face, never a client's token).

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import { Corral } from '../client/Corral.js';
import { httpsFetch } from '../client/httpsFetch.js';
import type { FaceContext } from '../server/face.js';
import type { McpBackendFactory } from './McpHttpFace.js';
import { RemoteBackend } from './RemoteBackend.js';

export function frontDoorBackends(context: FaceContext): McpBackendFactory {
  return (caller, bearer) => {
    // The door let a scoped caller in by the bearer token it showed; an owner may have come by the dashboard's cookie.
    const token = caller === undefined ? context.door.token : bearer;
    if (token === undefined) throw new Error('A scoped MCP caller without a bearer token: the door admits scoped tokens only as Authorization: Bearer.');
    const url = ownUrl(context.app.server);
    // A daemon serving TLS (--tls-cert) is called on its own port over loopback: the other end is this process's own
    // listening socket, and its certificate need not name 127.0.0.1, so it is not checked on this one hop.
    return new RemoteBackend(new Corral({ url, token, ...(url.startsWith('https:') ? { fetch: httpsFetch({ rejectUnauthorized: false }) } : {}) }));
  };
}

/**
 * Where this daemon listens, as a URL its own door accepts: a wildcard bind (0.0.0.0, ::, e.g. in Kubernetes) is
 * reached on loopback, whose Host names the door always knows; a specific address is the host it was started with.
 * Read per MCP session (sessions open only once the daemon listens).
 */
function ownUrl(server: Server): string {
  const address = server.address() as AddressInfo | null;
  if (address === null) throw new Error('The daemon is not listening yet.');
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `${server instanceof TlsServer ? 'https' : 'http'}://${host}:${address.port}`;
}
