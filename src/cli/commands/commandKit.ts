// What the client commands share: argument parsing with the common options (--json, --data-dir, --help),
// error-to-exit-code mapping around a command body, session-id and number arguments. Holds no state between commands.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { Corral } from '../../client/Corral.js';
import { CorralClientError } from '../../client/CorralClientError.js';
import { clientFor, EXIT, reportError, UsageError, type CliCommand, type CliIO } from '../cliCommand.js';
import { parseDuration } from '../output/duration.js';
import { resolveSessionRef } from '../sessionRef.js';
import { terminalSafeJson } from '../output/neutralize.js';

/** Options every client command takes (clientCommand adds them to the command's own). */
const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Runs a command body and turns any failure into its exit code (reportError). --json is read from argv
 * directly so that even an argument-parsing failure answers with a JSON error document.
 */
async function guarded(argv: string[], io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    return reportError(error, io, argv.includes('--json'));
  }
}

/** Prints a command's usage on stdout for --help. */
export function printHelp(io: CliIO, usage: string): number {
  io.stdout.write(usage.endsWith('\n') ? usage : usage + '\n');
  return EXIT.ok;
}

type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** How clientCommand parses argv; `tokens` lets a command tell `run -- cmd` from `run cmd`. */
type ClientParseConfig<O extends CommandOptions> = {
  args: string[];
  options: typeof COMMON_OPTIONS & O;
  allowPositionals: true;
  strict: true;
  tokens: true;
};

/** What a command body gets: values typed by COMMON_OPTIONS and the command's own options, positionals, tokens. */
export type ParsedCommandLine<O extends CommandOptions> = ReturnType<typeof parseArgs<ClientParseConfig<O>>>;

interface ClientCommandSpec<O extends CommandOptions> {
  name: string;
  summary: string;
  usage: string;
  /** The command's own options; COMMON_OPTIONS are added. */
  options: O;
  run: (parsed: ParsedCommandLine<O>, io: CliIO) => Promise<number>;
}

/**
 * A client command: parses argv (COMMON_OPTIONS and its own options, strict, positionals allowed), answers --help
 * with its usage and runs the body inside `guarded`, so a bad flag is still exit 2 and a JSON error with --json.
 */
export function clientCommand<const O extends CommandOptions>(command: ClientCommandSpec<O>): CliCommand;
// The implementation sees options of any shape: TypeScript cannot work out parseArgs' result for a generic O
// (to read `help`), so the precise types are the overload's, for callers.
export function clientCommand(command: ClientCommandSpec<CommandOptions>): CliCommand {
  return {
    name: command.name,
    summary: command.summary,
    run: (argv, io) =>
      guarded(argv, io, async () => {
        const config: ClientParseConfig<CommandOptions> = {
          args: argv,
          options: { ...COMMON_OPTIONS, ...command.options },
          allowPositionals: true,
          strict: true,
          tokens: true,
        };
        const parsed = parseArgs(config);
        if (parsed.values.help) return printHelp(io, command.usage);
        return command.run(parsed, io);
      }),
  };
}

export function client(values: { 'data-dir'?: string }, io: CliIO): Corral {
  return clientFor(values['data-dir'], io.env);
}

/** The one session a command acts on (the first positional): an id, a name or a unique id prefix. */
export async function sessionArg(api: Corral, positionals: readonly string[], usage: string): Promise<string> {
  const ref = positionals[0];
  if (ref === undefined || ref === '') throw new UsageError(`a session id or name is required\n${usage}`);
  return resolveSessionRef(api, ref);
}

export function integerOption(value: string | undefined, option: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${option}: "${value}" must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** `--env KEY=VALUE` flags as an environment object; none at all is undefined (the daemon's defaults apply). */
export function envOption(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env: "${pair}" is not KEY=VALUE`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

/** A duration flag (`--timeout 30s`) in ms; a malformed one is a usage error (exit 2). */
export function durationOption(value: string | undefined, option: string, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  try {
    return parseDuration(value, option);
  } catch (error) {
    // parseDuration throws RangeError for text that is not a duration: that is the user's typing.
    if (error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
}

export function writeJson(io: CliIO, value: unknown): void {
  io.stdout.write(terminalSafeJson(value, 2) + '\n');
}

/**
 * The working directory a command that starts a session sends: `--cwd`, else the caller's own (a session starts
 * where the user stands, as a shell's child would). The daemon confines it to its roots; a caller standing outside
 * them gets CWD_NOT_ALLOWED with a hint (`withCwdHint`).
 */
export function sessionCwd(flag: string | undefined): { cwd: string; implicit: boolean } {
  return flag === undefined ? { cwd: process.cwd(), implicit: true } : { cwd: flag, implicit: false };
}

/** Runs `body`; a CWD_NOT_ALLOWED for the caller's own directory says how to get past it. */
export async function withCwdHint<T>(cwd: { cwd: string; implicit: boolean }, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (!(error instanceof CorralClientError) || error.code !== 'CWD_NOT_ALLOWED' || !cwd.implicit) throw error;
    throw new CorralClientError(
      error.code,
      `${error.message} Sessions start in your current directory: cd under a root, pass --cwd DIR, or start the daemon with --root.`,
      error.status,
      error.details,
      { cause: error },
    );
  }
}
