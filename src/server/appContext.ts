// What the REST routes are built with, and where they live. Apart from app.ts so routes and app do not import
// each other.

import type { Logger } from 'pino';
import type { TaskHealthBoard } from '../common/TaskHealthBoard.js';
import type { Engine } from '../engine/Engine.js';
import type { DoorPolicy } from './auth.js';

export const API_PREFIX = '/api/v1';

export interface AppContext {
  engine: Engine;
  door: DoorPolicy;
  logger: Logger;
  version: string;
  /** Validates a dashboard session cookie (issue: web dashboard); absent means cookies are not accepted. */
  cookieValid?: (value: string) => boolean;
  /** The process's descriptor limit (soft RLIMIT_NOFILE): connections are capped to a share of it. */
  openFiles?: number;
  /** The faces' periodic tasks, shown with the engine's in `/healthz`. */
  tasks?: TaskHealthBoard;
  /** Serve HTTPS (and WSS) with this certificate and key (`corral serve --tls-cert --tls-key`); plain HTTP without. */
  tls?: TlsFiles;
}

/** A PEM certificate (chain) and its private key, as read from `--tls-cert` and `--tls-key`. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}
