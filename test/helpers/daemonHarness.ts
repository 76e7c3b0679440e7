// Spawns a real daemon (`corral serve --port 0`) on 127.0.0.1 with its own data dir and workspace root, and
// gives tests an authenticated request helper. Runs from source through tsx by default so tests never see a
// stale build; `useBin: true` runs bin/corral (the automation contract) instead.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpsFetch } from '../../src/client/httpsFetch.js';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** Daemon start-up on a loaded 2-core machine (tsx compiles on the fly) stays well under this. */
const START_TIMEOUT_MS = 30_000;
/** After POST /shutdown answered (every session ended), the daemon closes its store and exits within this. */
const SELF_STOP_TIMEOUT_MS = 30_000;

export interface DaemonHandle {
  url: string;
  token: string;
  dataDir: string;
  root: string;
  base: string;
  pid: number;
  child: ChildProcess;
  stderr: () => string;
  request<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /**
   * Stops the daemon and resolves with its exit code. `end-sessions` (the default: a test must not leave holders
   * behind): POST /api/v1/shutdown {endSessions: true}, so every session ends first. `keep-sessions`: SIGTERM, the
   * sessions keep running under their holders (a later start on the same data dir must end them).
   */
  stop(mode?: StopMode): Promise<number | null>;
  /** kill -9 the daemon (crash), leaving its sessions behind (under holders: still running). */
  crash(): Promise<void>;
  /** Removes the temp dirs (after stop or crash). */
  cleanup(): void;
}

export type StopMode = 'end-sessions' | 'keep-sessions';

export interface StartOptions {
  args?: string[];
  useBin?: boolean;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  base?: string;
  env?: Record<string, string>;
  /** Extra node flags for the daemon (benchmarks: `--cpu-prof`); runs dist/ like `useBin`. */
  nodeArgs?: string[];
  /** A command that execs the daemon (same pid), e.g. `['prlimit', '--nofile=256:256', '--']`. */
  prefix?: string[];
  /** The client token is in this file (`--token-file`, given in `args`), not in the data dir. */
  tokenFile?: string;
  /** The CA that signed a TLS daemon's certificate (`--tls-cert`): `request` checks the daemon against it. */
  ca?: Buffer;
  /** A descriptor for the daemon's stderr (a log file, as `corral mcp` gives it) instead of a pipe read into `stderr()`. */
  stderrFd?: number;
}

export function corralCommand(useBin: boolean): { file: string; args: string[] } {
  return useBin
    ? { file: join(REPO_ROOT, 'bin', 'corral'), args: [] }
    : { file: process.execPath, args: ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'main.ts')] };
}

export async function startDaemon(options: StartOptions = {}): Promise<DaemonHandle> {
  const base = options.base ?? realpathSync(mkdtempSync(join(tmpdir(), 'corral-daemon-')));
  const dataDir = options.dataDir ?? join(base, 'data');
  const root = join(base, 'work');
  mkdirSync(root, { recursive: true });
  const infoPath = join(dataDir, 'daemon.json');
  rmSync(infoPath, { force: true });
  const { file, args } = options.nodeArgs
    ? { file: process.execPath, args: [...options.nodeArgs, join(REPO_ROOT, 'dist', 'cli', 'main.js')] }
    : corralCommand(options.useBin === true);
  const prefix = options.prefix ?? [];
  const child = spawn(
    prefix[0] ?? file,
    [...prefix.slice(1), ...(prefix.length > 0 ? [file] : []), ...args, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--root', root, ...(options.args ?? [])],
    { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', options.stderrFd ?? 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let info: { url: string; pid: number };
  let token: string;
  try {
    const deadline = performance.now() + START_TIMEOUT_MS;
    while (!existsSync(infoPath)) {
      if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${stderr}`);
      if (performance.now() > deadline) throw new Error(`daemon did not start: ${stderr}`);
      await sleep(50);
    }
    info = JSON.parse(readFileSync(infoPath, 'utf8')) as { url: string; pid: number };
    token = readFileSync(options.tokenFile ?? join(dataDir, 'token'), 'utf8').trim();
  } catch (error) {
    // A daemon left running would keep the test file alive until its timeout; nothing else will stop it.
    child.kill('SIGKILL');
    throw error;
  }
  const handle: DaemonHandle = {
    url: info.url,
    token,
    dataDir,
    root,
    base,
    pid: info.pid,
    child,
    stderr: () => stderr,
    async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const send = info.url.startsWith('https:') ? httpsFetch(options.ca === undefined ? {} : { ca: options.ca }) : fetch;
      const response = await send(info.url + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      }).catch((error: unknown) => {
        // "fetch failed" alone hides why: say whether the daemon is gone and what it last wrote.
        const state = child.exitCode !== null || child.signalCode !== null ? `exited (${child.exitCode ?? child.signalCode})` : 'running';
        throw new TypeError(`${method} ${path}: ${(error as Error).message} (${String((error as Error).cause ?? '')}); daemon ${state}; its stderr ends: ${stderr.slice(-2000)}`, { cause: error });
      });
      const text = await response.text();
      return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
    },
    async stop(mode: StopMode = 'end-sessions') {
      if (child.exitCode !== null) return child.exitCode;
      if (mode === 'end-sessions') {
        try {
          await handle.request('POST', '/api/v1/shutdown', { endSessions: true });
        } catch (error) {
          // The daemon stopped answering (it is exiting already): SIGTERM below makes sure, and it ends nothing more.
          if (!(error instanceof TypeError)) throw error;
        }
        // It stops by itself once the reply is out; a SIGTERM now could land after it let go of its handler.
        const timer = new AbortController();
        const late = sleep(SELF_STOP_TIMEOUT_MS, 'late' as const, { signal: timer.signal }).catch(() => 'late' as const);
        const code = await Promise.race([exited, late]);
        // The pending timer would keep the test process alive for its whole length.
        timer.abort();
        if (code !== 'late') return code;
      }
      child.kill('SIGTERM');
      return exited;
    },
    async crash() {
      child.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      if (options.base === undefined) rmSync(base, { recursive: true, force: true });
    },
  };
  return handle;
}

/**
 * The end of a test whose daemons stopped with `keep-sessions` or crashed: ends every session still running under a
 * holder of the data dir (through the last daemon still up, else a fresh one on the same data dir), so a failed
 * test never leaves holders behind. Cleans the temp dirs of `first`.
 */
export async function stopLeavingNothing(first: DaemonHandle, ...later: (DaemonHandle | null)[]): Promise<void> {
  const running = [...later.reverse(), first].filter((d): d is DaemonHandle => d !== null && d.child.exitCode === null && d.child.signalCode === null);
  for (const daemon of running) await daemon.stop('end-sessions');
  const holders = join(first.dataDir, 'holders');
  if (existsSync(holders) && readdirSync(holders).some((name) => name.endsWith('.sock'))) {
    const cleaner = await startDaemon({ dataDir: first.dataDir, base: first.base });
    await cleaner.stop('end-sessions');
  }
  first.cleanup();
}

