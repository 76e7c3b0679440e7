// `GET /api/v1/events` at a fleet's front door: every node's event stream (this node's included, through its own
// door with the cluster token, so all nodes are read alike), merged into one, each event saying its `node`.
//
// Resume: each node numbers its own events (`<boot>.<seq>`), so no single number orders the fleet's. The merged
// stream's ids are composite, `fleet:<node>=<boot>.<seq>,<node>=<boot>.<seq>,…` — every node's last id so far — and
// a client that resumes with one gets, from each node, what came after that node's id (a gap from a node is passed
// on with its `node`). A node the id does not name (it joined since) is read from now. A plain `<boot>.<seq>` id
// (from a single daemon's stream) is taken as this node's.
//
// A node that stops answering (its stream ends or fails, or the membership counts it unreachable) is announced once
// with `event: node.unreachable`, and `event: node.reachable` when its stream is back (resumed from its last id, so
// nothing it produced meanwhile is missed). These two carry no id: they are about the fleet, not a node's log.

import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { NodeInfo } from '../protocol/apiReplies.js';
import type { Principal } from '../server/auth.js';
import type { PeerClient } from './peerClient.js';

const FLEET_ID_PREFIX = 'fleet:';
/** Comment lines keep proxies from timing the stream out (as the single node's stream does). */
const KEEPALIVE_MS = 15_000;
/** A client this far behind is cut off; it resumes by id (as on a single node). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
const RETRY_MS = 1000;

export function encodeFleetId(positions: ReadonlyMap<string, string>): string {
  return FLEET_ID_PREFIX + [...positions].sort(([a], [b]) => a.localeCompare(b)).map(([node, id]) => `${node}=${id}`).join(',');
}

/** Each node's last id from a Last-Event-ID: a composite one, or a plain one of `self`. */
export function decodeFleetId(id: string | undefined, self: string): Map<string, string> {
  const positions = new Map<string, string>();
  if (id === undefined || id === '') return positions;
  if (!id.startsWith(FLEET_ID_PREFIX)) {
    positions.set(self, id);
    return positions;
  }
  for (const part of id.slice(FLEET_ID_PREFIX.length).split(',')) {
    const at = part.indexOf('=');
    if (at > 0) positions.set(part.slice(0, at), part.slice(at + 1));
  }
  return positions;
}

export interface SseFrame {
  id?: string;
  event: string;
  data?: string;
}

/** Splits an SSE byte stream into frames (comments and `retry:` dropped). */
export class SseParser {
  private buffer = '';

  push(chunk: string): SseFrame[] {
    this.buffer += chunk;
    const frames: SseFrame[] = [];
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: SseFrame = { event: 'message' };
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') frame.id = value;
        else if (field === 'event') frame.event = value;
        else if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
      }
      if (frame.id !== undefined || frame.data !== undefined) frames.push(frame);
    }
    return frames;
  }
}

interface Link {
  request: ClientRequest | null;
  /** null until the first answer or failure. */
  reachable: boolean | null;
}

export interface FleetEventStreamOptions {
  peers: PeerClient;
  nodes: () => NodeInfo[];
  self: string;
  principal: Principal;
  /** The client's query string (types, sessionId), passed to every node. */
  search: string;
  lastEventId: string | undefined;
  pollMs: number;
  onEnd: () => void;
}

export class FleetEventStream {
  private readonly positions: Map<string, string>;
  private readonly links = new Map<string, Link>();
  private readonly timer: NodeJS.Timeout;
  private lastWrite = Date.now();
  private ended = false;

  constructor(private readonly res: ServerResponse, private readonly options: FleetEventStreamOptions) {
    this.positions = decodeFleetId(options.lastEventId, options.self);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.write(`retry: ${RETRY_MS}\n\n`);
    res.on('close', () => this.end());
    this.timer = setInterval(() => this.tick(), Math.max(250, options.pollMs));
    this.tick();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    for (const link of this.links.values()) link.request?.destroy();
    this.res.end();
    this.options.onEnd();
  }

  /** Links to every node not yet linked (new ones, and ones that failed), drops forgotten ones, keeps the client alive. */
  private tick(): void {
    if (this.ended) return;
    const nodes = this.options.nodes();
    const names = new Set(nodes.map((node) => node.name));
    for (const [name, link] of this.links) {
      if (names.has(name)) continue;
      link.request?.destroy();
      this.links.delete(name);
    }
    for (const node of nodes) {
      const link = this.links.get(node.name) ?? { request: null, reachable: null };
      this.links.set(node.name, link);
      // The membership knows first when a node is cut off (a stream to it may hang until TCP gives up).
      if (node.state === 'unreachable') {
        link.request?.destroy();
        link.request = null;
        this.setReachable(node.name, link, false);
        continue;
      }
      if (link.request === null) this.connect(node, link);
    }
    if (Date.now() - this.lastWrite >= KEEPALIVE_MS) this.write(': keepalive\n\n');
  }

  private connect(node: NodeInfo, link: Link): void {
    const since = this.positions.get(node.name);
    const path = `/api/v1/events${this.options.search === '' ? '' : `?${this.options.search}`}`;
    const headers = { accept: 'text/event-stream', ...(since === undefined ? {} : { 'last-event-id': since }) };
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      if (link.request === request) link.request = null;
      request.destroy();
      this.setReachable(node.name, link, false);
    };
    const request = this.options.peers.stream(node, path, this.options.principal, headers, (response: IncomingMessage) => {
      if (response.statusCode !== 200) {
        response.resume();
        fail();
        return;
      }
      this.setReachable(node.name, link, true);
      const parser = new SseParser();
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        for (const frame of parser.push(chunk)) this.forward(node.name, frame);
      });
      response.on('end', fail);
      response.on('error', fail);
    });
    request.on('error', fail);
    link.request = request;
  }

  private forward(node: string, frame: SseFrame): void {
    if (frame.event === 'gap' && frame.data !== undefined) {
      this.write(`event: gap\ndata: ${JSON.stringify({ ...(JSON.parse(frame.data) as object), node })}\n\n`);
      return;
    }
    if (frame.id !== undefined) this.positions.set(node, frame.id);
    if (frame.data === undefined) {
      // A node's starting point: the client's id covers it from now on.
      this.write(`id: ${encodeFleetId(this.positions)}\n\n`);
      return;
    }
    const event = JSON.parse(frame.data) as { data?: { session?: { node?: string } }; node?: string };
    event.node = node;
    if (event.data?.session !== undefined) event.data.session.node = node;
    this.write(`id: ${encodeFleetId(this.positions)}\nevent: ${frame.event}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  private setReachable(node: string, link: Link, reachable: boolean): void {
    const was = link.reachable;
    link.reachable = reachable;
    // The first answer of a node is no news; a failure always is, once.
    if (was === reachable || (reachable && was === null)) return;
    const type = reachable ? 'node.reachable' : 'node.unreachable';
    this.write(`event: ${type}\ndata: ${JSON.stringify({ type, node, at: new Date().toISOString() })}\n\n`);
  }

  private write(chunk: string): void {
    if (this.ended || this.res.writableEnded) return;
    this.lastWrite = Date.now();
    this.res.write(chunk);
    if (this.res.writableLength > MAX_BUFFERED_BYTES) this.end();
  }
}
