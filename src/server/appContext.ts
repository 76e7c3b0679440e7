// What the REST routes are built with, and where they live. Apart from app.ts so routes and app do not import
// each other.

import type { Logger } from 'pino';
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
}
