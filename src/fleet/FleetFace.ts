// The fleet at this node's front door (`corral serve --cluster`): every REST call, WebSocket and list is answered for
// the whole fleet. A call for a session on another node is proxied there (REST) or bridged (WebSocket); a create is
// placed on the node with the most room (or the one named); the list merges every node's. The node's own sessions
// never need etcd, so they are served through an etcd outage; what needs routing answers ROUTING_UNAVAILABLE then.
// A request from another node (cluster token) is always answered here, never forwarded again.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Etcd3 } from 'etcd3';
import { createSessionSchema, drainSchema, listQuerySchema, nodeNameSchema } from '../protocol/api.js';
import type { DrainReply, ForgetReply, NodeInfo, NodesReply, SessionPage } from '../protocol/apiReplies.js';
import { CorralError, isCorralError } from '../protocol/errors.js';
import type { SessionInfo } from '../protocol/sessionTypes.js';
import { API_PREFIX } from '../server/appContext.js';
import { CLUSTER_TOKEN_HEADER, checkHostAndOrigin, checkToken, doorRequestOf, resolveFleetToken, tryDecodeURIComponent, type DoorPolicy, type Principal } from '../server/auth.js';
import type { DaemonFace, FaceContext } from '../server/face.js';
import { scopedCallerOf } from '../server/face.js';
import { addUpgradeRouter } from '../server/upgradeRouters.js';
import { refuseUpgrade } from '../server/ws/SessionSocketServer.js';
import { createEtcdClient, withDeadline } from './etcdClient.js';
import { keys } from './etcdKeys.js';
import { EtcdMembership } from './etcdMembership.js';
import type { FleetOptions } from './fleetOptions.js';
import { PeerClient } from './peerClient.js';
import { placeSession } from './placement.js';
import { SessionDirectory, type Location } from './sessionDirectory.js';
import { bridgeUpgrade } from './upgradeBridge.js';
import { FleetEventStream } from './fleetEvents.js';
import { eventsQuery } from '../server/events/sseRoute.js';
import { parseWith } from '../server/routeTable.js';
import { asLost, matches, sessionsIn } from './sessionViews.js';
import { deliveriesQuery, webhookIdParams } from '../server/webhooks/webhookRoutes.js';
import { fleetDeliveries } from './fleetWebhooks.js';
import { FleetTokens } from './fleetTokens.js';
import { mergePage, type PagePart } from './fleetCursor.js';
import { decodeSessionCursor } from '../protocol/sessionCursor.js';
import { SCOPED_TOKEN_SHAPE } from '../engine/engineTypes.js';
import type { Engine } from '../engine/Engine.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const SESSION_ROUTE = `${API_PREFIX}/sessions/:id`;
const WS_SESSION_PATH = /^\/ws\/sessions\/([^/]+)$/;
const nodeParams = z.object({ name: nodeNameSchema });
/** Routes whose call names a task (in the body or the path): answered by the task's node. */
const TASK_ROUTES = new Set([
  `POST ${API_PREFIX}/sessions/agent`,
  `POST ${API_PREFIX}/sessions/claude`,
  `POST ${API_PREFIX}/exec`,
  `GET ${API_PREFIX}/tasks/:taskId`,
  `DELETE ${API_PREFIX}/tasks/:taskId`,
]);
/** Sessions asked of each node for the fleet list when the caller gives no limit (the route's own default). */
const DEFAULT_PAGE = 100;

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export class FleetFace implements DaemonFace {
  private readonly etcd: Etcd3;
  private readonly peers: PeerClient;
  private readonly directory: SessionDirectory;
  /** Sessions' scoped tokens in etcd: this node's recorded, other nodes' looked up (fleetTokens.ts). */
  private readonly tokens: FleetTokens;
  private membership!: EtcdMembership;
  /** Each node's sessions as last listed: what the fleet shows of them while the node is unreachable. */
  private readonly lastKnown = new Map<string, Map<string, SessionInfo>>();
  /** Directory writes of sessions created here, awaited before their creator hears of them. */
  private readonly recording = new Map<string, Promise<void>>();
  private snapshotTimer: NodeJS.Timeout | null = null;
  /** Open fleet-wide event streams, ended when the daemon stops. */
  private readonly eventStreams = new Set<FleetEventStream>();

  constructor(private readonly options: FleetOptions) {
    this.etcd = createEtcdClient(options.etcd, options.etcdTls);
    this.peers = new PeerClient(options.clusterToken, options.peerCa);
    this.directory = new SessionDirectory(this.etcd);
    this.tokens = new FleetTokens(this.etcd, options.nodeName, () => this.membership.routing, (node) => this.membership.node(node) !== undefined);
  }

  async attach(context: FaceContext): Promise<void> {
    const { engine, app, routes } = context;
    const log: Log = (level, message, fields) => context.logger[level](fields ?? {}, message);
    this.membership = new EtcdMembership(this.etcd, this.options, () => {
      const stats = engine.stats();
      return { sessions: Number(stats.live ?? 0), maxSessions: Number(stats.maxLiveSessions ?? 0) };
    }, log);
    const self = this.options.nodeName;
    context.door.fleetTokens = this.tokens;

    // Every session created here is recorded before its creator hears of it (see onSend below).
    const subscription = engine.onEvent((event) => {
      if (event.type !== 'session.created') return;
      const id = event.session.id;
      // Its scoped token too, so any node's door finds the node of a token the session uses at once.
      const both = Promise.all([this.directory.record({ ...event.session, node: self }, self), this.recordToken(engine, event.session)]);
      const write = withDeadline(both.then(() => undefined)).catch((error: unknown) => {
        log('warn', 'fleet: could not record a new session in etcd; other nodes will not find it until it is', { sessionId: id, error: (error as Error).message });
      });
      this.recording.set(id, write);
      void write.finally(() => this.recording.delete(id));
    });

    const isLocal = (id: string): boolean => {
      try {
        engine.sessions.info(id);
        return true;
      } catch (error) {
        if (isCorralError(error) && error.code === 'SESSION_NOT_FOUND') return false;
        throw error;
      }
    };

    const tokenSubscription = this.followTokens(engine, log);

    app.addHook('preHandler', async (request, reply) => {
      // Another node forwarded this: it is ours to answer.
      if (request.headers[CLUSTER_TOKEN_HEADER] !== undefined) return;
      if (this.routeFleetToken(request, reply)) return;
      const route = request.routeOptions.url ?? '';
      const principal = principalOf(request);
      if (route.startsWith(SESSION_ROUTE)) {
        const id = (request.params as { id?: string }).id;
        if (id === undefined || isLocal(id)) return;
        await this.routeSession(id, request, reply, principal);
        return;
      }
      if (route === `${API_PREFIX}/events` && request.method === 'GET') {
        this.fleetEvents(request, reply, principal);
        return;
      }
      // What names a task goes to the node its sessions run on (an agent create or an exec may start one there).
      const taskId = TASK_ROUTES.has(`${request.method} ${route}`) ? taskIdOf(request) : undefined;
      if (taskId !== undefined) {
        await this.routeTask(taskId, request, reply, principal);
        return;
      }
      if (principal.kind !== 'owner') return;
      if (route === `${API_PREFIX}/sessions` && request.method === 'POST') await this.place(request, reply);
      else if (route === `${API_PREFIX}/sessions` && request.method === 'GET') await reply.send(await this.fleetList(request));
      else if (route === `${API_PREFIX}/stats` && request.method === 'GET') await reply.send({ ...engine.stats(), version: context.version, fleet: await this.fleetStats() });
      else if (route === `${API_PREFIX}/webhooks/:id/deliveries` && request.method === 'GET') await this.webhookDeliveries(request, reply);
    });

    // Every session object a reply carries says its node; a created one is in the directory before it leaves.
    app.addHook('preSerialization', async (_request, _reply, payload: unknown) => {
      for (const session of sessionsIn(payload)) {
        session.node ??= self;
        await this.recording.get(session.id);
      }
      return payload;
    });

    // A purged session leaves the directory.
    app.addHook('onResponse', async (request, reply) => {
      if (request.method !== 'DELETE' || request.routeOptions.url !== SESSION_ROUTE || reply.statusCode !== 200) return;
      if ((request.query as { purge?: string }).purge !== 'true') return;
      const id = (request.params as { id: string }).id;
      await withDeadline(this.directory.remove(id)).catch((error: unknown) => log('warn', 'fleet: could not remove a purged session from etcd', { sessionId: id, error: (error as Error).message }));
    });

    const removeRouter = addUpgradeRouter(app.server, (req, socket, head) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const match = WS_SESSION_PATH.exec(path);
      if (match?.[1] === undefined || req.headers[CLUSTER_TOKEN_HEADER] !== undefined) return false;
      if (this.bridgeFleetToken(req, socket, head, context.door)) return true;
      const id = tryDecodeURIComponent(match[1]) ?? match[1];
      if (isLocal(id)) return false;
      // The same door as the WebSocket face's, before anything is sent on.
      let principal: Principal;
      try {
        const door = doorRequestOf(req.headers, req.url ?? '/', req.socket.remoteAddress);
        checkHostAndOrigin(context.door, door);
        principal = checkToken(context.door, door, () => false);
        context.door.trust?.(req.socket);
      } catch (error) {
        refuseUpgrade(socket, error);
        return true;
      }
      void this.nodeOf(id).then(
        (node) => {
          if (node === null) {
            refuseUpgrade(socket, new CorralError('SESSION_NOT_FOUND', `No session ${id}.`));
            return;
          }
          bridgeUpgrade(req, socket, head, node, { clusterToken: this.options.clusterToken, principal, refuse: refuseUpgrade, ca: this.options.peerCa });
        },
        (error: unknown) => refuseUpgrade(socket, error),
      );
      return true;
    });

    routes.add({
      method: 'GET',
      url: '/nodes',
      summary: 'The nodes of the fleet: up, draining or unreachable, with their capacity',
      tag: 'fleet',
      handler: (): NodesReply => {
        this.requireRouting();
        return { nodes: this.membership.nodes() };
      },
    });
    routes.add({
      method: 'POST',
      url: '/nodes/:name/drain',
      summary: 'Stop (draining: true, the default) or resume new placements on a node; answers what still runs there',
      tag: 'fleet',
      params: nodeParams,
      body: drainSchema,
      handler: async ({ params, body }): Promise<DrainReply> => {
        this.requireRouting();
        const node = this.knownNode(params.name);
        await this.etcdCall(async () => {
          if (body.draining === false) await this.etcd.delete().key(keys.drain(node.name));
          else await this.etcd.put(keys.drain(node.name)).value(new Date().toISOString());
        });
        await this.membership.refresh();
        const sessions = node.state === 'unreachable' ? this.markUnreachable(node.name) : await this.listOf(node, `${API_PREFIX}/sessions?live=true&limit=1000`);
        return { node: this.knownNode(node.name), sessions: sessions.filter((session) => session.state !== 'terminated') };
      },
    });
    routes.add({
      method: 'POST',
      url: '/nodes/:name/forget',
      summary: 'Declare an unreachable node gone: its sessions end as lost (state terminated, exit reason lost)',
      tag: 'fleet',
      params: nodeParams,
      handler: async ({ params }): Promise<ForgetReply> => {
        this.requireRouting();
        const node = this.knownNode(params.name);
        if (node.state !== 'unreachable') {
          throw new CorralError('CONFLICT', `Node ${node.name} is ${node.state}: only an unreachable node can be forgotten (stop it first).`);
        }
        const lost = await this.etcdCall(async () => {
          const recorded = await this.directory.sessionsOf(node.name);
          const latest = this.lastKnown.get(node.name) ?? new Map<string, SessionInfo>();
          const ended = recorded.map((created) => asLost(latest.get(created.id) ?? created, node.name));
          await this.directory.markLost(ended);
          await this.tokens.forgetNode(node.name);
          await this.etcd.delete().key(keys.member(node.name));
          await this.etcd.delete().key(keys.drain(node.name));
          return ended;
        });
        this.lastKnown.delete(node.name);
        await this.membership.refresh();
        return { node: node.name, lost };
      },
    });

    app.addHook('onClose', async () => {
      subscription.dispose();
      tokenSubscription.dispose();
      removeRouter();
      if (this.snapshotTimer !== null) clearInterval(this.snapshotTimer);
      for (const stream of [...this.eventStreams]) stream.end();
      // Sessions still live here (a SIGTERM keeps them under their holders): the node is not gone, only restarting.
      await this.membership.stop(engine.sessions.live().length === 0);
      this.peers.dispose();
      this.etcd.close();
    });

    await this.membership.start();
    // Each node's sessions as last seen, kept fresh so an unreachable node's sessions can still be shown.
    this.snapshotTimer = setInterval(() => void this.refreshSnapshots(), Math.max(1000, this.options.pollMs * 2));
    this.snapshotTimer.unref();
  }

  // ---- sessions' scoped tokens across the fleet ---------------------------------------------------------------

  /** The token of a session created here goes to etcd with the session, so every node's door finds its node. */
  private async recordToken(engine: Engine, session: SessionInfo): Promise<void> {
    const hash = engine.tokens.tokenHashOf(session.id);
    if (hash !== undefined) await this.tokens.record(hash, { sessionId: session.id, taskId: session.taskId ?? null });
  }

  /**
   * A session that ends takes its token out of etcd; at the start (a restart) the tokens of sessions live here are
   * recorded again (the put is idempotent, and repairs one that could not be written when its session was created),
   * and those of sessions that ended meanwhile are swept out.
   */
  private followTokens(engine: Engine, log: Log): { dispose(): void } {
    const warn = (sessionId: string) => (error: unknown): void =>
      log('warn', 'fleet: could not update a session\'s token in etcd', { sessionId, error: (error as Error).message });
    for (const session of engine.sessions.live()) void withDeadline(this.recordToken(engine, session)).catch(warn(session.id));
    void withDeadline(this.tokens.sweep((id) => engine.tokens.tokenHashOf(id) !== undefined)).catch(warn('*'));
    return engine.onEvent((event) => {
      if (event.type === 'session.exited') void withDeadline(this.tokens.ended(event.sessionId)).catch(warn(event.sessionId));
    });
  }

  /**
   * A request with a scoped token another node issued goes to that node whatever it asks (its session, its task, the
   * list, the event stream): that node alone holds what the token may reach and judges it as it would at its own door,
   * so the token is confined exactly as there. The node gets the cluster token and the token's hash, never the token.
   */
  private routeFleetToken(request: FastifyRequest, reply: FastifyReply): boolean {
    const token = bearerOf(request.headers.authorization);
    const fleet = token === undefined ? undefined : this.tokens.known(token);
    if (fleet === undefined) return false;
    this.peers.proxy(this.tokenNode(fleet.node, fleet.scope.sessionId), request, reply, { kind: 'scoped', scope: fleet.scope, via: fleet }, request.body);
    return true;
  }

  /** The WebSocket of a scoped token another node issued: bridged to that node, after the same door as REST's. */
  private bridgeFleetToken(req: IncomingMessage, socket: Duplex, head: Buffer, door: DoorPolicy): boolean {
    const token = bearerOf(req.headers.authorization);
    if (token === undefined || !SCOPED_TOKEN_SHAPE.test(token) || door.scopedToken?.(token) !== undefined) return false;
    void (async () => {
      const request = doorRequestOf(req.headers, req.url ?? '/', req.socket.remoteAddress);
      checkHostAndOrigin(door, request);
      await resolveFleetToken(door, request);
      const principal = checkToken(door, request, () => false);
      door.trust?.(req.socket);
      // checkToken answers the fleet's principal for a token no local check knows, or refuses.
      if (principal.kind !== 'scoped' || principal.via === undefined) throw new CorralError('UNAUTHORIZED', 'Invalid token.');
      const node = this.tokenNode(principal.via.node, principal.scope.sessionId);
      bridgeUpgrade(req, socket, head, node, { clusterToken: this.options.clusterToken, principal, refuse: refuseUpgrade });
    })().catch((error: unknown) => refuseUpgrade(socket, error));
    return true;
  }

  /** The node that issued a token, while it answers. */
  private tokenNode(name: string, sessionId: string): NodeInfo {
    const node = this.membership.node(name);
    if (node === undefined || node.state === 'unreachable') {
      throw new CorralError('NODE_UNREACHABLE', `This token's session ${sessionId} runs on node ${name}, which is not answering; retry once it is back.`, { details: { node: name } });
    }
    return node;
  }

  // ---- routing ---------------------------------------------------------------------------------------------------

  private requireRouting(): void {
    if (!this.membership.routing) {
      throw new CorralError('ROUTING_UNAVAILABLE', 'The fleet\'s coordination store (etcd) cannot be reached: this node serves its own sessions only; retry shortly.');
    }
  }

  private async etcdCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(call());
    } catch (error) {
      if (isCorralError(error)) throw error;
      throw new CorralError('ROUTING_UNAVAILABLE', `The fleet's coordination store (etcd) did not answer: ${(error as Error).message}`, { cause: error });
    }
  }

  private knownNode(name: string): NodeInfo {
    const node = this.membership.node(name);
    if (node === undefined) throw new CorralError('NODE_NOT_FOUND', `No node ${name} in the fleet (see GET /api/v1/nodes).`);
    return node;
  }

  /**
   * Where session `id` lives. A cached answer naming a node that is not up is read again: the node may have been
   * forgotten meanwhile (its sessions moved to the lost records) by another front.
   */
  private async locate(id: string): Promise<Location> {
    const location = await this.etcdCall(() => this.directory.locate(id));
    if (location.kind !== 'node' || this.membership.node(location.node)?.state === 'up' || this.membership.node(location.node)?.state === 'draining') return location;
    this.directory.uncache(id);
    return this.etcdCall(() => this.directory.locate(id));
  }

  /** The reachable node that holds session `id`, null when no node does; refusals for an unreachable one. */
  private async nodeOf(id: string): Promise<NodeInfo | null> {
    this.requireRouting();
    const location = await this.locate(id);
    if (location.kind === 'unknown') return null;
    if (location.kind === 'lost') throw new CorralError('SESSION_NOT_RUNNING', `Session ${id} was lost with its node.`);
    if (location.node === this.options.nodeName) return null;
    const node = this.membership.node(location.node);
    if (node === undefined || node.state === 'unreachable') {
      throw new CorralError('NODE_UNREACHABLE', `Session ${id} runs on node ${location.node}, which is not answering; retry once it is back.`, {
        details: { node: location.node },
      });
    }
    return node;
  }

  private async routeSession(id: string, request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<void> {
    this.requireRouting();
    const location = await this.locate(id);
    // Unknown here and everywhere: the local route answers SESSION_NOT_FOUND.
    if (location.kind === 'unknown' || (location.kind === 'node' && location.node === this.options.nodeName)) return;
    const isInfo = request.method === 'GET' && request.routeOptions.url === SESSION_ROUTE;
    if (location.kind === 'lost') {
      if (isInfo) {
        await reply.send(location.session);
        return;
      }
      throw new CorralError('SESSION_NOT_RUNNING', `Session ${id} was lost with its node.`);
    }
    const node = this.membership.node(location.node);
    if (node === undefined || node.state === 'unreachable') {
      const known = this.markUnreachable(location.node).find((session) => session.id === id);
      if (isInfo && known !== undefined) {
        await reply.send(known);
        return;
      }
      throw new CorralError('NODE_UNREACHABLE', `Session ${id} runs on node ${location.node}, which is not answering; retry once it is back.`, {
        details: { node: location.node },
      });
    }
    this.peers.proxy(node, request, reply, principal, request.body);
  }

  /**
   * A call that names a task (an agent create, an exec, GET or DELETE /tasks/:taskId) is answered by the node the
   * task's sessions run on, so a task's idempotency (one live session per taskId) holds across the fleet. A task no
   * node has started yet is this node's: agent creates and execs run where they are asked (the project path, the
   * agent's home and worktree are paths of that machine); only plain creates are placed by room.
   */
  private async routeTask(taskId: string, request: FastifyRequest, reply: FastifyReply, principal: Principal): Promise<void> {
    this.requireRouting();
    const name = await this.etcdCall(() => this.directory.taskNode(taskId));
    if (name === null || name === this.options.nodeName) return;
    const node = this.membership.node(name);
    // A forgotten node's tasks ended with it: a new session of the task starts here.
    if (node === undefined) return;
    if (node.state === 'unreachable') {
      throw new CorralError('NODE_UNREACHABLE', `Task ${taskId} runs on node ${name}, which is not answering; retry once it is back.`, { details: { node: name } });
    }
    this.peers.proxy(node, request, reply, principal, request.body);
  }

  /** GET /events: every node's stream merged (fleetEvents.ts); with etcd out of reach, this node's own (the route's). */
  private fleetEvents(request: FastifyRequest, reply: FastifyReply, principal: Principal): void {
    if (!this.membership.routing) return;
    // A bad query is refused here, before the stream starts, as the route would.
    parseWith(eventsQuery, request.query, 'query');
    const lastEventId = request.headers['last-event-id'];
    void reply.hijack();
    const stream = new FleetEventStream(reply.raw, {
      peers: this.peers,
      nodes: () => this.membership.nodes(),
      self: this.options.nodeName,
      principal,
      search: request.url.split('?')[1] ?? '',
      lastEventId: Array.isArray(lastEventId) ? lastEventId[0] : lastEventId,
      pollMs: this.options.pollMs,
      onEnd: () => this.eventStreams.delete(stream),
    });
    this.eventStreams.add(stream);
  }

  /** POST /sessions: the node with the most room, or the one named; here or forwarded there. */
  private async place(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const parsed = createSessionSchema.safeParse(request.body ?? {});
    // A malformed body is the local route's to refuse, with its usual message.
    if (!parsed.success) return;
    this.requireRouting();
    const body = { ...(request.body as Record<string, unknown>) };
    delete body.node;
    delete body.nodeSelector;
    // A task's next session joins its others (the node named must be that one, if any).
    const taskNode = parsed.data.taskId === undefined ? null : await this.etcdCall(() => this.directory.taskNode(parsed.data.taskId as string));
    const known = taskNode !== null && this.membership.node(taskNode) !== undefined ? taskNode : undefined;
    if (known !== undefined && parsed.data.node !== undefined && parsed.data.node !== known) {
      throw new CorralError('CONFLICT', `Task ${parsed.data.taskId as string} runs on node ${known}: its sessions stay on one node (leave out node, or name ${known}).`, {
        details: { node: known },
      });
    }
    const target = placeSession(this.membership.nodes(), { node: known ?? parsed.data.node, selector: known === undefined ? parsed.data.nodeSelector : undefined });
    const placement = this.membership.notePlacement(target);
    if (target === this.options.nodeName) {
      request.body = body;
      reply.raw.once('close', () => placement.done());
      return;
    }
    const node = this.knownNode(target);
    try {
      const answer = await this.peers.json<SessionInfo | { error: unknown }>(node, 'POST', `${API_PREFIX}/sessions`, body);
      if ('id' in (answer.body ?? {})) this.directory.remember((answer.body as SessionInfo).id, target);
      await reply.code(answer.status).send(answer.body);
    } finally {
      placement.done();
    }
  }

  /**
   * Every node's sessions, merged newest first; an unreachable node's as last known, `reachable: false`. Paged by the
   * same cursor as one daemon's list (fleetCursor.ts), so a client pages through the fleet as through one node.
   */
  private async fleetList(request: FastifyRequest): Promise<SessionPage> {
    this.requireRouting();
    const parsed = listQuerySchema.safeParse(request.query ?? {});
    if (!parsed.success) throw new CorralError('VALIDATION_FAILED', `Invalid query: ${parsed.error.issues[0]?.message ?? ''}`);
    const query = parsed.data;
    // A malformed cursor is refused here as one daemon refuses it, before any node is asked.
    const after = query.cursor === undefined ? null : decodeSessionCursor(query.cursor);
    const limit = query.limit ?? DEFAULT_PAGE;
    const search = new URLSearchParams(request.url.split('?')[1] ?? '');
    search.set('limit', String(limit));
    const known = (node: string): PagePart => ({ sessions: this.markUnreachable(node).filter((session) => matches(session, query)), more: false });
    const parts = await Promise.all(
      this.membership.nodes().map(async (node): Promise<PagePart> => {
        if (node.state === 'unreachable') return known(node.name);
        try {
          return await this.pageOf(node, `${API_PREFIX}/sessions?${search.toString()}`);
        } catch (error) {
          if (isCorralError(error) && error.code === 'NODE_UNREACHABLE') return known(node.name);
          throw error;
        }
      }),
    );
    const lost = (await this.etcdCall(() => this.directory.lost())).filter((session) => matches(session, query));
    return mergePage([...parts, { sessions: lost, more: false }], after, limit);
  }

  /** A webhook's delivery attempts, every node's merged (each node delivers its own sessions' events: fleetWebhooks.ts). */
  private async webhookDeliveries(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const params = webhookIdParams.safeParse(request.params);
    const query = deliveriesQuery.safeParse(request.query ?? {});
    // A bad id or limit is the local route's to refuse; with etcd out of reach, this node's own attempts are its answer.
    if (!params.success || !query.success || !this.membership.routing) return;
    await reply.send(await fleetDeliveries(this.peers, this.membership.nodes(), params.data.id, query.data.limit));
  }

  /** `/stats` of every node that answers, by name (null for one that does not); this node's are the reply's own. */
  private async fleetStats(): Promise<{ nodes: Record<string, unknown> }> {
    this.requireRouting();
    const entries = await Promise.all(
      this.membership.nodes().map(async (node): Promise<[string, unknown]> => {
        if (node.state === 'unreachable') return [node.name, null];
        try {
          const answer = await this.peers.json<unknown>(node, 'GET', `${API_PREFIX}/stats`);
          return [node.name, answer.status === 200 ? answer.body : null];
        } catch (error) {
          if (isCorralError(error) && error.code === 'NODE_UNREACHABLE') return [node.name, null];
          throw error;
        }
      }),
    );
    return { nodes: Object.fromEntries(entries) };
  }

  /** One node's own list; what it says of each session is kept, for when the node stops answering. */
  private async listOf(node: NodeInfo, path: string, replace = false): Promise<SessionInfo[]> {
    return (await this.pageOf(node, path, replace)).sessions;
  }

  /** One node's page of its list (`more`: it has more past it), kept as listOf keeps it. */
  private async pageOf(node: NodeInfo, path: string, replace = false): Promise<PagePart> {
    const answer = await this.peers.json<SessionPage>(node, 'GET', path);
    if (answer.status !== 200) throw new CorralError('INTERNAL', `Node ${node.name} answered ${answer.status} to its session list.`, { details: answer.body });
    // A full list replaces what was known (purged sessions leave it); any other adds to it.
    const known = (replace ? undefined : this.lastKnown.get(node.name)) ?? new Map<string, SessionInfo>();
    for (const session of answer.body.sessions) known.set(session.id, session);
    this.lastKnown.set(node.name, known);
    return { sessions: answer.body.sessions, more: answer.body.nextCursor !== null };
  }

  private markUnreachable(node: string): SessionInfo[] {
    return [...(this.lastKnown.get(node)?.values() ?? [])].map((session) => ({ ...session, node, reachable: false }));
  }

  private async refreshSnapshots(): Promise<void> {
    if (!this.membership.routing) return;
    await Promise.all(
      this.membership.nodes().map(async (node) => {
        if (node.state === 'unreachable') return;
        try {
          await this.listOf(node, `${API_PREFIX}/sessions?limit=1000`, true);
        } catch {
          // Unreachable right now: the membership will say so; the last list stands.
        }
      }),
    );
  }
}

/** Who the front door let in: the owner (the client token or the dashboard) or a session's scoped token. */
function principalOf(request: FastifyRequest): Principal {
  const caller = scopedCallerOf(request.raw);
  return caller === undefined ? { kind: 'owner' } : { kind: 'scoped', scope: caller.scope };
}

/** The bearer token of a request's Authorization header. */
function bearerOf(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1];
}

/** The task a call names: `:taskId` in the path, else `taskId` in the body. */
function taskIdOf(request: FastifyRequest): string | undefined {
  const fromPath = (request.params as { taskId?: unknown } | undefined)?.taskId;
  if (typeof fromPath === 'string') return fromPath;
  const fromBody = (request.body as { taskId?: unknown } | undefined)?.taskId;
  return typeof fromBody === 'string' ? fromBody : undefined;
}
