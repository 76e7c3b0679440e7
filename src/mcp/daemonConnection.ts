// How `corral mcp` reaches a daemon: the CLI's way (CORRAL_URL + CORRAL_TOKEN, else the data dir's daemon.json),
// and when none answers, it starts one in the background on the data dir (detached, so it and its sessions outlive
// this MCP client). Must never start a daemon for an explicit CORRAL_URL, and never kill one.

import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Corral } from '../client/Corral.js';
import { CorralClientError } from '../client/CorralClientError.js';
import { DAEMON_INFO_FILE, defaultDataDir, type DaemonInfo } from '../config/paths.js';

/** A daemon starting on a loaded 2-core machine writes daemon.json well within this. */
const START_TIMEOUT_MS = 30_000;
/** How often daemon.json is looked for while a daemon starts. */
const START_POLL_MS = 50;
/** After the daemon we started exited, how long another one (started by a concurrent client) may take to answer. */
const OTHER_DAEMON_GRACE_MS = 5_000;
/** The started daemon's log, beside its data (its stderr would otherwise be lost with this process's). */
const DAEMON_LOG_FILE = 'daemon.log';

export interface ConnectOptions {
  dataDir?: string;
  env: NodeJS.ProcessEnv;
  /** Start a daemon when none answers (default in `corral mcp`; `--no-start` turns it off). */
  autoStart: boolean;
  /** Workspace roots for a daemon started here (the daemon's default is the home directory). */
  roots: string[];
  /** argv that runs this CLI (node, its flags, the script): how the background `corral serve` is started. */
  cliArgv: string[];
  log: (message: string) => void;
}

export interface Connection {
  client: Corral;
  /** The daemon this call started, if it did. */
  startedPid: number | null;
}

async function answers(client: Corral): Promise<boolean> {
  try {
    await client.health();
    return true;
  } catch (error) {
    // Unreachable (nothing listens, a stale daemon.json after a crash): start one or report it.
    if (error instanceof CorralClientError && error.code === 'DAEMON_UNREACHABLE') return false;
    throw error;
  }
}

export async function connectToDaemon(options: ConnectOptions): Promise<Connection> {
  const explicitUrl = options.dataDir === undefined && (options.env.CORRAL_URL ?? '') !== '';
  let reason: string;
  try {
    const client = Corral.fromEnvironment({ dataDir: options.dataDir, env: options.env });
    if (await answers(client)) return { client, startedPid: null };
    reason = `the daemon at ${client.endpoint.url} does not answer`;
  } catch (error) {
    if (!(error instanceof CorralClientError) || error.code !== 'NO_DAEMON') throw error;
    reason = error.message;
  }
  if (explicitUrl) {
    throw new CorralClientError('DAEMON_UNREACHABLE', `${reason}. CORRAL_URL names it, so corral mcp does not start one: start it there first.`, null);
  }
  if (!options.autoStart) {
    throw new CorralClientError('NO_DAEMON', `${reason}. Start one with \`corral serve\` (or run corral mcp without --no-start).`, null);
  }
  const dataDir = options.dataDir ?? defaultDataDir(options.env);
  return { client: await startDaemon(dataDir, options), startedPid: readInfo(dataDir)?.pid ?? null };
}

function readInfo(dataDir: string): DaemonInfo | undefined {
  const path = join(dataDir, DAEMON_INFO_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DaemonInfo;
  } catch (error) {
    // Half-written while the daemon starts: look again on the next poll.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

async function startDaemon(dataDir: string, options: ConnectOptions): Promise<Corral> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logPath = join(dataDir, DAEMON_LOG_FILE);
  const logFd = openSync(logPath, 'a', 0o600);
  const [file, ...args] = options.cliArgv;
  if (file === undefined) throw new Error('cannot start a daemon: no command to run');
  const rootArgs = options.roots.flatMap((root) => ['--root', root]);
  let child;
  try {
    child = spawn(file, [...args, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, ...rootArgs], {
      // Its own session and process group: a signal to this MCP client's group (an editor closing it) must not
      // reach the daemon and its sessions.
      detached: true,
      stdio: ['ignore', logFd, logFd],
      env: options.env,
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  child.unref();
  options.log(`corral mcp: no daemon was running; started one (pid ${pid ?? '?'}, data ${dataDir}, log ${logPath}).`);
  const deadline = performance.now() + START_TIMEOUT_MS;
  let exitedAt: number | null = null;
  while (performance.now() < deadline) {
    const info = readInfo(dataDir);
    const client = (): Corral => Corral.fromEnvironment({ dataDir, env: { ...options.env, CORRAL_URL: undefined } });
    if (info !== undefined && info.pid === pid) return client();
    if (exitedAt === null && (child.exitCode !== null || child.signalCode !== null)) exitedAt = performance.now();
    if (exitedAt !== null) {
      // Ours exited. Most likely another client started a daemon on this data dir at the same moment and holds
      // it (one daemon per data dir): use that one once it answers. Otherwise ours failed; its log says why.
      if (info !== undefined && (await answers(client()))) return client();
      if (performance.now() - exitedAt > OTHER_DAEMON_GRACE_MS) {
        throw new CorralClientError('NO_DAEMON', `The daemon started for corral mcp exited at once; see ${logPath}.`, null);
      }
    }
    await sleep(START_POLL_MS);
  }
  throw new CorralClientError('NO_DAEMON', `The daemon started for corral mcp did not come up within ${START_TIMEOUT_MS} ms; see ${logPath}.`, null);
}
