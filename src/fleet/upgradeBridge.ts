// A WebSocket to a session on another node, bridged at the TCP level: the front door checks the client (Host, Origin,
// token), then replays the upgrade request to the owning node with the cluster token instead of the client's, and
// splices the two sockets. The WebSocket itself runs end to end between the client and the owner, so frames,
// offsets, resume (`since`), heartbeats and flow control are the owner's, byte for byte; pipe() carries TCP
// backpressure both ways, so a stalled client holds the owner's sends back as it would on a direct connection.

import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CALLER_HEADER, CLUSTER_TOKEN_HEADER, callerHeaderOf, type Principal } from '../server/auth.js';
import { unreachable } from './peerClient.js';

/** Request headers that are the front door's and never travel on. */
const DROPPED = new Set(['host', 'authorization', 'cookie', 'origin', CLUSTER_TOKEN_HEADER, CALLER_HEADER]);

/**
 * Opens the bridge; `refuse` answers the client with a catalog error when the node cannot be reached. The node's own
 * answer (101, or its refusal) goes back to the client unchanged.
 */
export function bridgeUpgrade(
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  node: { name: string; url: string },
  options: { clusterToken: string; principal: Principal; refuse: (socket: Duplex, error: Error) => void; ca?: Buffer | undefined },
): void {
  const target = new URL(node.url);
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`, `Host: ${target.host}`];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    if (!DROPPED.has(name.toLowerCase())) lines.push(`${name}: ${req.rawHeaders[i + 1] ?? ''}`);
  }
  lines.push(`${CLUSTER_TOKEN_HEADER}: ${options.clusterToken}`, `${CALLER_HEADER}: ${callerHeaderOf(options.principal)}`);
  const upstream = openUpstream(target, options.ca);
  upstream.setNoDelay(true);
  (client as Socket).setNoDelay?.(true);
  let connected = false;
  upstream.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
    connected = true;
    upstream.write(lines.join('\r\n') + '\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', (error) => {
    if (!connected) options.refuse(client, unreachable(node, error));
    else client.destroy();
  });
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}

/** A TCP connection to the node, or TLS when it advertises https:// (its certificate checked against `ca`). */
function openUpstream(target: URL, ca: Buffer | undefined): Socket {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (target.protocol !== 'https:') return connect({ host, port: Number(target.port || 80) });
  return connectTls({ host, port: Number(target.port || 443), ...(isIP(host) === 0 ? { servername: host } : {}), ...(ca === undefined ? {} : { ca }) });
}
