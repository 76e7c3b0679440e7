// The daemon's log: pino JSON lines with secrets redacted at the source (tokens, cookies, session env values).

import pino, { type Logger } from 'pino';
import { REDACTED } from '../protocol/sessionTypes.js';
import { LogDestination } from './logDestination.js';

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'token',
  '*.token',
  'authToken',
  '*.authToken',
  'env',
  '*.env',
  'secret',
  '*.secret',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: REDACTED }, base: { name: 'corral' } },
    options.destination ?? stderrLog(),
  );
}

let sharedStderr: LogDestination | null = null;

/**
 * The process's stderr log, one for every logger that names no destination: each opens its own description of the
 * descriptor (or a socket on it), which one process needs once. Not pino.destination(2): it retried a write a full
 * disk refused forever at exit (see LogDestination).
 */
export function stderrLog(): LogDestination {
  sharedStderr ??= new LogDestination();
  return sharedStderr;
}
