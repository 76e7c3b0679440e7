// The typed client of a Corral daemon: `new Corral({ url, token })` or `Corral.fromEnvironment()`, then
// `corral.sessions.*`, `corral.exec()`, `corral.events()`, `corral.templates` and `corral.macros`. Every failure is
// a CorralClientError carrying the daemon's catalog code. Holds no state besides where the daemon is.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecRequest, ExecResult, MacroBody, ShutdownRequest, TemplateBody } from '../protocol/api.js';
import type { SessionInfo } from '../protocol/sessionTypes.js';
import type { LoginLink, MacroRecord, ShutdownReply, TemplateRecord } from '../protocol/apiReplies.js';
import { CorralClientError } from './CorralClientError.js';
import { resolveEndpoint, trimUrl, type DiscoveryOptions, type Endpoint } from './endpoint.js';
import { eventStream, type CorralEvent, type EventsOptions } from './eventStream.js';
import { NodesApi } from './NodesApi.js';
import { PresetsApi } from './PresetsApi.js';
import { RestTransport } from './RestTransport.js';
import { SessionsApi, type CallOptions } from './SessionsApi.js';

export interface CorralOptions {
  /** The daemon's base URL, e.g. `http://127.0.0.1:7433`. */
  url: string;
  /** The API token (`corral token`). */
  token: string;
  /**
   * Sends the REST requests (default: the global fetch). For a daemon serving TLS under a CA Node does not know,
   * `httpsFetch({ ca })` — or start Node with NODE_EXTRA_CA_CERTS.
   */
  fetch?: typeof globalThis.fetch;
}

/** How often shutdown() asks whether the daemon is gone: it closes its port within milliseconds of replying. */
const SHUTDOWN_POLL_MS = 50;

export class Corral {
  readonly sessions: SessionsApi;
  readonly templates: PresetsApi<TemplateBody, TemplateRecord>;
  readonly macros: PresetsApi<MacroBody, MacroRecord>;
  /** A fleet's nodes (a daemon started with --cluster). */
  readonly nodes: NodesApi;
  private readonly transport: RestTransport;

  constructor(options: CorralOptions) {
    this.transport = new RestTransport({ url: trimUrl(options.url), token: options.token }, options.fetch);
    this.sessions = new SessionsApi(this.transport);
    this.templates = new PresetsApi(this.transport, 'templates');
    this.macros = new PresetsApi(this.transport, 'macros');
    this.nodes = new NodesApi(this.transport);
  }

  /**
   * The daemon the CLI would talk to: CORRAL_URL + CORRAL_TOKEN, else the data dir's daemon.json and token file
   * (`dataDir`, else CORRAL_DATA_DIR, else the default). Throws NO_DAEMON when none is found.
   */
  static fromEnvironment(options: DiscoveryOptions = {}): Corral {
    return new Corral(resolveEndpoint(options));
  }

  get endpoint(): Endpoint {
    return this.transport.endpoint;
  }

  /**
   * A one-shot command in a pipe session (a string runs through /bin/sh -c, an array is argv): stdout, stderr and
   * exit code. Past `timeoutMs` it keeps running (timedOut: true) under `sessionId` and `pid`. One request: Node's
   * fetch gives up on a reply slower than 300 s, so for longer commands follow with `sessions.wait(sessionId, { exit })`.
   */
  exec(request: ExecRequest, options: CallOptions = {}): Promise<ExecResult> {
    return this.transport.request<ExecResult>('POST', '/api/v1/exec', request, options);
  }

  /** Ends every live session of a task (whole trees); TASK_NOT_FOUND when the task never had one. */
  endTask(taskId: string, options: CallOptions = {}): Promise<{ taskId: string; ended: SessionInfo[] }> {
    return this.transport.request('DELETE', `/api/v1/tasks/${encodeURIComponent(taskId)}`, undefined, options);
  }

  /** The daemon's events (session created, state changes, exits, finished commands), resumed after drops. */
  events(options: EventsOptions = {}): AsyncGenerator<CorralEvent> {
    return eventStream(this.transport, options);
  }

  /** `GET /healthz`: resolves when the daemon answers. */
  health(options: CallOptions = {}): Promise<unknown> {
    return this.transport.request<unknown>('GET', '/healthz', undefined, options);
  }

  /**
   * Stops the daemon. `endSessions`: every session ends by the escalation first (the reply comes once they ended);
   * otherwise sessions keep running under their holders. Resolves once the daemon no longer answers.
   */
  async shutdown(request: ShutdownRequest, options: CallOptions = {}): Promise<ShutdownReply> {
    const reply = await this.transport.request<ShutdownReply>('POST', '/api/v1/shutdown', request, options);
    for (;;) {
      try {
        await this.health(options);
      } catch (error) {
        // The daemon is gone (connection refused) or closing (503): what we waited for.
        if (error instanceof CorralClientError && (error.code === 'DAEMON_UNREACHABLE' || error.status === 503)) return reply;
        throw error;
      }
      await sleep(SHUTDOWN_POLL_MS, undefined, { signal: options.signal });
    }
  }

  /** A one-time dashboard login link (valid for 60 seconds). */
  loginLink(): Promise<LoginLink> {
    return this.transport.request<LoginLink>('POST', '/api/v1/auth/login-links', {});
  }
}
