// The shape of one CLI command, and what every command shares: --json, --data-dir, finding the daemon, exit codes.

import { Corral } from '../client/Corral.js';
import { CorralClientError } from '../client/CorralClientError.js';
import { terminalSafeJson } from './output/neutralize.js';

/** Exit codes scripts can rely on (README documents them). */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, timeout: 4, unreachable: 5 } as const;

export interface CliIO {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  name: string;
  summary: string;
  run(argv: string[], io: CliIO): Promise<number>;
}

/** The client for the daemon named by --data-dir, CORRAL_URL/CORRAL_TOKEN, CORRAL_DATA_DIR or the default. */
export function clientFor(dataDir: string | undefined, env: NodeJS.ProcessEnv): Corral {
  return Corral.fromEnvironment({ dataDir, env });
}

/** A command line that cannot be run as typed (missing id, bad duration): exit code 2. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** Maps a failure to a message on stderr and an exit code. */
export function reportError(error: unknown, io: CliIO, json: boolean): number {
  if (error instanceof CorralClientError) {
    if (json) io.stdout.write(terminalSafeJson({ error: { code: error.code, message: error.message, details: error.details } }) + '\n');
    else io.stderr.write(`corral: ${error.message}\n`);
    if (error.code === 'NO_DAEMON' || error.code === 'DAEMON_UNREACHABLE') return EXIT.unreachable;
    if (error.status === 404) return EXIT.notFound;
    if (error.status !== null && error.status >= 400 && error.status < 500) return EXIT.usage;
    return EXIT.failure;
  }
  const message = (error as Error).message;
  if (error instanceof UsageError) {
    if (json) io.stdout.write(terminalSafeJson({ error: { code: error.code, message } }) + '\n');
    else io.stderr.write(`corral: ${message}\n`);
    return EXIT.usage;
  }
  if (json) io.stdout.write(terminalSafeJson({ error: { code: 'CLI_ERROR', message } }) + '\n');
  else io.stderr.write(`corral: ${message}\n`);
  return (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ||
    (error as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' ||
    (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL'
    ? EXIT.usage
    : EXIT.failure;
}
