// The composition root: builds the data dir, token, store, engine, HTTP app and every face, and nothing else
// does; writes daemon.json once listening; stops cleanly (no new work, store flushed, exit 0) in one of two ways:
// keeping the sessions that run under holders (SIGTERM, the default: the next start reattaches them) or ending every
// session by the escalation first (POST /api/v1/shutdown {endSessions: true}). Faces get a FaceContext, never the Daemon.

import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { chooseBackends } from '../engine/backends/chooseBackends.js';
import { Engine } from '../engine/Engine.js';
import { defaultEngineConfig, type EngineConfig } from '../engine/EngineConfig.js';
import { Store } from '../store/Store.js';
import { DAEMON_INFO_FILE, type DaemonInfo } from '../config/paths.js';
import { buildApp } from '../server/app.js';
import { API_PREFIX, type TlsFiles } from '../server/appContext.js';
import type { RouteTable } from '../server/routeTable.js';
import { buildDoorPolicy, loadOrCreateToken, type DoorPolicy } from '../server/auth.js';
import { EventHub } from '../server/events/EventHub.js';
import type { DaemonFace, FaceContext } from '../server/face.js';
import { createMetrics } from '../server/metrics.js';
import { TaskHealthBoard, type TaskHealthSource } from '../common/TaskHealthBoard.js';
import { raiseOpenFilesLimit } from '../engine/process/openFilesLimit.js';
import { native } from '../engine/process/nativeBinding.js';
import { lockDataDir, type DataDirLock } from './dataDirLock.js';
import { DaemonInfoFile } from './daemonInfoFile.js';
import { readOnlyIfDiskFull } from './diskSpace.js';
import { createLogger } from './logger.js';
import { shutdownSchema } from '../protocol/api.js';
import type { ShutdownReply } from '../protocol/apiReplies.js';
import { packageVersion } from '../common/packageVersion.js';
import { FleetFace } from '../fleet/FleetFace.js';
import { FleetWebhookStore } from '../fleet/fleetWebhooks.js';
import type { FleetOptions } from '../fleet/fleetOptions.js';
import { readTokenFile } from '../server/auth.js';

/** Faces are defined with the server; callers of the composition root name them from here. */
export type { DaemonFace, TlsFiles };
/** What `corral serve` needs to start a fleet node (the CLI may not import src/fleet or src/server itself). */
export { DEFAULT_LEASE_TTL_SECONDS, DEFAULT_POLL_MS, parseClusterUrl, type FleetOptions } from '../fleet/fleetOptions.js';
export { readTokenFile };

export interface DaemonOptions {
  host: string;
  port: number;
  dataDir: string;
  roots: string[];
  /** Required to listen on anything but loopback. */
  allowRemote?: boolean;
  /** Extra Host names accepted (e.g. a DNS name used with --allow-remote). */
  allowedHosts?: string[];
  engine?: Partial<EngineConfig>;
  logger?: Logger;
  /** Webhook destinations beyond loopback: origins or host names (`corral serve --webhook-allow`). */
  webhookAllow?: string[];
  /** Engine events kept for SSE resume (Last-Event-ID) and webhooks; default DEFAULT_EVENT_BACKLOG. */
  eventBacklog?: number;
  /** Health the process reports beside the daemon's own tasks (`corral serve`: its uncaught errors, ProcessFaults). */
  healthSources?: TaskHealthSource[];
  /** The client token from this file (`--token-file`: nodes of a fleet share it) instead of <data-dir>/token. */
  tokenFile?: string;
  /** Join a fleet on etcd (`--cluster`): every node answers the API for every node's sessions (src/fleet/). */
  cluster?: FleetOptions;
  /** Serve HTTPS and WSS with this certificate and key (`--tls-cert`, `--tls-key`) instead of plain HTTP. */
  tls?: TlsFiles;
}

/** What the start-up found, logged once the daemon listens. */
type StartFacts = Awaited<ReturnType<Engine['start']>> & { openFiles: number; connections: unknown };

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * The data dir holds the token, the store (webhook secrets, template secrets) and every session's output: only its
 * owner may enter it. mkdir's mode applies to a new dir only, so an existing one that others can enter is tightened.
 */
function makePrivateDir(dir: string, logger: Logger): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    chmodSync(dir, 0o700);
    logger.warn({ dataDir: dir, was: mode.toString(8) }, 'the data dir was open to other users; its mode is now 0700');
  }
}

export class Daemon {
  readonly app: FastifyInstance;
  /** Faces add their schema-first routes here (registered after they attach) or describe raw ones for OpenAPI. */
  readonly routes: RouteTable;
  readonly engine: Engine;
  readonly door: DoorPolicy;
  readonly logger: Logger;
  readonly version = packageVersion();
  private stopping: Promise<void> | null = null;
  private readonly stoppedSignal: { resolve: () => void; promise: Promise<void> } = (() => {
    let resolve: () => void = () => undefined;
    const promise = new Promise<void>((res) => {
      resolve = res;
    });
    return { resolve, promise };
  })();
  private readonly store: Store;
  private readonly lock: DataDirLock;
  private readonly infoFile: DaemonInfoFile;
  /** What the engine's start found, for the "listening" log line. */
  private readonly started: StartFacts;

  private constructor(
    readonly options: DaemonOptions,
    parts: {
      app: FastifyInstance;
      routes: RouteTable;
      engine: Engine;
      store: Store;
      door: DoorPolicy;
      logger: Logger;
      lock: DataDirLock;
      infoFile: DaemonInfoFile;
      started: StartFacts;
    },
  ) {
    this.started = parts.started;
    this.infoFile = parts.infoFile;
    this.lock = parts.lock;
    this.app = parts.app;
    this.routes = parts.routes;
    this.engine = parts.engine;
    this.store = parts.store;
    this.door = parts.door;
    this.logger = parts.logger;
  }

  get server(): Server {
    return this.app.server;
  }

  get url(): string {
    const address = this.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${this.scheme}://${host}:${address.port}`;
  }

  /** `https` when the daemon serves TLS: the scheme of its URL and of the Origins its door accepts. */
  private get scheme(): 'http' | 'https' {
    return this.options.tls === undefined ? 'http' : 'https';
  }

  /** Builds the daemon and listens: what `corral serve` runs. */
  static async start(options: DaemonOptions, faces: DaemonFace[] = []): Promise<Daemon> {
    const daemon = await Daemon.build(options, faces);
    try {
      await daemon.listen();
    } catch (error) {
      // The port taken: a daemon that cannot start exits instead of lingering with its store, hook socket and lock held.
      await daemon.stop();
      throw error;
    }
    return daemon;
  }

  /**
   * Builds every part (data dir, token, store, engine, HTTP app, faces) without listening: `listen()` opens the port.
   * A test that answers requests with `app.inject()` builds, then `openDoor(port)` for the port its Host headers name.
   */
  static async build(options: DaemonOptions, faces: DaemonFace[] = []): Promise<Daemon> {
    if (!LOOPBACK.has(options.host) && options.allowRemote !== true) {
      throw new Error(`Refusing to listen on ${options.host}: a non-loopback bind needs --allow-remote (and the token).`);
    }
    const logger = options.logger ?? createLogger();
    // Before anything opens a descriptor: the HTTP connection caps are a share of this limit.
    // A long-running daemon with bursts of sessions: without this its RSS stays ~130 MiB higher after 1,000 short
    // sessions (freed buffers stranded in a fragmented malloc heap; native/corral_native.c says why).
    native.fixMallocThresholds();
    const openFiles = raiseOpenFilesLimit();
    if (openFiles.refused !== null) {
      logger.warn({ soft: openFiles.before.soft, hard: openFiles.before.hard, errno: openFiles.refused }, 'could not raise the descriptor limit');
    }
    makePrivateDir(options.dataDir, logger);
    const lock = lockDataDir(options.dataDir);
    // Whatever was opened before a failure (a face that cannot attach) is closed again: a daemon that cannot start
    // exits instead of lingering with its store, hook socket and lock held.
    const opened: (() => void | Promise<void>)[] = [() => lock.release()];
    try {
      // First, before reattached sessions' journals can take the disk's last blocks: a read-only start must still be found.
      const infoFile = DaemonInfoFile.reserve(join(options.dataDir, DAEMON_INFO_FILE));
      opened.unshift(() => infoFile.discard());
      const token = options.tokenFile === undefined ? loadOrCreateToken(options.dataDir) : readTokenFile(options.tokenFile);
      const store = Store.open(options.dataDir, { ...readOnlyIfDiskFull(options.dataDir) });
      opened.unshift(() => store.close());
      if (store.readOnly !== null) logger.error({ dataDir: options.dataDir }, store.readOnly.message);
      const roots = options.roots;
      const config: EngineConfig = { ...defaultEngineConfig(options.dataDir, roots), ...options.engine, dataDir: options.dataDir, roots };
      const engine = new Engine({
        config,
        store,
        log: (level, message, fields) => logger[level](fields ?? {}, message),
        // What runs sessions' processes: the seam of src/engine/backends/ProcessBackend.ts.
        backends: chooseBackends(config),
      });
      opened.unshift(() => engine.shutdown());
      // One numbering of the engine's events for every face that sends them (SSE, webhooks), logged in the store so
      // ids stay valid across restarts. Made before the engine starts: what a start finds (a session that ended
      // while no daemon ran, a re-derived state) is numbered and logged like any other event.
      const events = new EventHub(engine, {
        capacity: options.eventBacklog,
        log: store,
        warn: (message, fields) => logger.warn(fields, message),
      });
      opened.unshift(() => events.dispose());
      const { subreaper, recovered, reattach } = await engine.start();
      // The port is known only after listen; the door policy is filled in then (requests cannot arrive before).
      // Sessions' scoped tokens (CORRAL_TOKEN) pass the door too, confined to their session and task.
      const door: DoorPolicy = {
        token,
        allowedHosts: new Set(),
        allowedOrigins: new Set(),
        scopedToken: (given) => engine.tokens.resolve(given),
        scopedTokenHash: (hash) => engine.tokens.resolveHash(hash),
        ...(options.cluster === undefined ? {} : { clusterToken: options.cluster.clusterToken }),
      };
      const version = packageVersion();
      const tasks = new TaskHealthBoard();
      for (const source of options.healthSources ?? []) tasks.add(source);
      const { app, routes, connections, authFailures } = buildApp({ engine, door, logger, version, tasks, openFiles: openFiles.after.soft, ...(options.tls === undefined ? {} : { tls: options.tls }) });
      opened.unshift(() => app.close());
      const metrics = createMetrics(engine, { tasks: () => tasks.all(), connections, authFailures });
      const metricsHandler = async (_req: unknown, reply: { header(k: string, v: string): void }): Promise<string> => {
        reply.header('content-type', metrics.contentType);
        return metrics.metrics();
      };
      app.get('/metrics', metricsHandler);
      app.get(`${API_PREFIX}/metrics`, metricsHandler);
      app.addHook('onClose', (_instance, done) => {
        events.dispose();
        done();
      });
      // A fleet node's webhook subscriptions are the fleet's (replicated in etcd, mirrored in this store).
      const webhookStore = options.cluster === undefined ? store : await FleetWebhookStore.open(options.cluster, store, (level, message, fields) => logger[level](fields ?? {}, message));
      if (webhookStore instanceof FleetWebhookStore) {
        opened.unshift(() => webhookStore.close());
        app.addHook('onClose', (_instance, done) => {
          webhookStore.close();
          done();
        });
      }
      const daemon = new Daemon(options, { app, routes, engine, store, door, logger, lock, infoFile, started: { subreaper, recovered, reattach, openFiles: openFiles.after.soft, connections: connections.limits } });
      const context: FaceContext = {
        engine,
        app,
        routes,
        door,
        logger,
        version,
        events,
        webhookStore,
        loginStore: store,
        webhookAllow: options.webhookAllow ?? [],
        tasks,
        ...(options.cluster === undefined ? {} : { fleetNode: options.cluster.nodeName }),
      };
      routes.add({
        method: 'POST',
        url: '/shutdown',
        summary:
          'Stop the daemon. endSessions: true ends every session (polite exit, SIGINT, SIGTERM, SIGKILL, tree sweep) first and answers once they ended; false (default) leaves sessions running under their holders for the next start',
        tag: 'system',
        body: shutdownSchema,
        handler: async ({ body }): Promise<ShutdownReply> => {
          const live = engine.sessions.live().length;
          await engine.shutdown({ endSessions: body.endSessions });
          // After this reply is sent: closing the HTTP server waits for requests in flight, this one included.
          setImmediate(() => void daemon.stop({ endSessions: body.endSessions }));
          return body.endSessions ? { endedSessions: live, keptSessions: 0 } : { endedSessions: 0, keptSessions: live };
        },
      });
      // A fleet node answers for every node: the fleet face decides, before the others, what is served elsewhere.
      const attached = options.cluster === undefined ? faces : [new FleetFace(options.cluster), ...faces];
      for (const face of attached) await face.attach(context);
      routes.register(app, API_PREFIX);
      return daemon;
    } catch (error) {
      for (const close of opened) {
        try {
          await close();
        } catch (closeError) {
          logger.warn({ error: (closeError as Error).message }, 'could not close what a failed start had opened');
        }
      }
      throw error;
    }
  }

  /** Listens on the options' host and port, lets that port's Host and Origin names in, and writes daemon.json. */
  async listen(): Promise<void> {
    const { host, dataDir, roots } = this.options;
    // A fixed port is let in before listening: clients of the previous daemon (reconnecting WebSockets, the
    // dashboard, `corral attach`) knock the moment the port opens, and must not meet a door that knows no Host yet.
    if (this.options.port !== 0) this.openDoor(this.options.port);
    await this.app.listen({ host, port: this.options.port });
    const port = (this.server.address() as AddressInfo).port;
    this.openDoor(port);
    const info: DaemonInfo = { url: `${this.scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`, pid: process.pid };
    if (!this.infoFile.write(info)) {
      this.logger.error(
        { url: info.url, dataDir },
        `The disk is full: ${DAEMON_INFO_FILE} could not be written, so clients that look for it will not find this daemon. It listens on ${info.url}; free space and restart corral.`,
      );
    }
    // Sessions holding a scoped token find the daemon through CORRAL_URL.
    this.engine.tokens.setEndpoint(info.url);
    const sandbox = this.engine.tokens.sandboxSupport();
    this.logger.info({ url: info.url, dataDir, roots, ...this.started, sandbox }, 'corral daemon listening');
  }

  /** Accepts the Host and Origin names of `port` at the door (until then every request is FORBIDDEN_HOST). */
  openDoor(port: number): void {
    // A fleet's other nodes reach this one by its advertised name (a DNS name in Kubernetes), which the door must know.
    const advertised = this.options.cluster === undefined ? [] : [new URL(this.options.cluster.advertiseUrl).hostname];
    const filled = buildDoorPolicy({ token: this.door.token, port, host: this.options.host, scheme: this.scheme, extraHosts: [...(this.options.allowedHosts ?? []), ...advertised] });
    if (this.options.cluster !== undefined) {
      // ...at the port it advertises, too (a Service may map another port onto this one).
      const url = new URL(this.options.cluster.advertiseUrl);
      this.door.allowedHosts.add(url.host.toLowerCase());
    }
    for (const name of filled.allowedHosts) this.door.allowedHosts.add(name);
    for (const origin of filled.allowedOrigins) this.door.allowedOrigins.add(origin);
  }

  /**
   * Stops accepting and flushes the store. `endSessions`: every session ends by the escalation first; otherwise
   * (the default, SIGTERM) sessions under holders keep running and the next start reattaches them, and only
   * sessions the daemon runs itself (`--session-host daemon`) end. Safe to call twice (the first call decides).
   */
  stop(options: { endSessions: boolean } = { endSessions: false }): Promise<void> {
    if (this.stopping === null) {
      this.stopping = (async () => {
        this.logger.info(options.endSessions ? 'shutting down: ending every session' : 'shutting down: sessions under holders keep running');
        const closing = this.app.close();
        await this.engine.shutdown(options);
        await closing;
        this.store.close();
        this.infoFile.discard();
        rmSync(join(this.options.dataDir, DAEMON_INFO_FILE), { force: true });
        this.lock.release();
        this.logger.info('shutdown complete');
        this.stoppedSignal.resolve();
      })();
    }
    return this.stopping;
  }

  /** Resolves once the daemon has stopped (by a signal or POST /api/v1/shutdown). */
  get stopped(): Promise<void> {
    return this.stoppedSignal.promise;
  }
}
