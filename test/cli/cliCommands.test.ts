// The CLI end to end: each command spawned from source against one real daemon, checking output and the
// exit codes scripts rely on (0 ok, 2 usage, 3 not found, 4 timed out, 5 unreachable, the command's own for run).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for output that is not UTF-8. */
  stdoutBytes: Buffer;
  stderrBytes: Buffer;
}

/** Generous bound for one CLI run on a loaded 2-core machine; a hung command fails the test instead of the suite. */
const CLI_TIMEOUT_MS = 60_000;

interface RunningCli {
  /** Everything the CLI has written to stdout so far. */
  stdout(): string;
  done: Promise<CliResult>;
  pid: number;
}

/** The CLI from source, from any working directory (commands that start sessions send theirs). */
const CLI_ARGV = ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src', 'cli', 'main.ts')];

function startCli(args: string[], env: Record<string, string>, input?: string, cwd = REPO_ROOT): RunningCli {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // The test decides how the daemon is found; an inherited CORRAL_* must not.
  if (env.CORRAL_DATA_DIR === undefined) delete childEnv.CORRAL_DATA_DIR;
  const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
    cwd,
    env: childEnv,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    timeout: CLI_TIMEOUT_MS,
  });
  if (input !== undefined) child.stdin?.end(input);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const [stdoutBytes, stderrBytes] = [Buffer.concat(stdout), Buffer.concat(stderr)];
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: stderrBytes.toString('utf8'), stdoutBytes, stderrBytes });
    });
  });
  return { stdout: () => Buffer.concat(stdout).toString('utf8'), done, pid: child.pid ?? 0 };
}

/**
 * Runs the CLI with a reader that leaves after the first chunk of stdout (like `| head -1`): the CLI's later
 * writes fail with EPIPE.
 */
function runCliReaderLeaves(args: string[], env: Record<string, string>, cwd = REPO_ROOT): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...CLI_ARGV, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: CLI_TIMEOUT_MS,
  });
  child.stdout.once('data', () => child.stdout.destroy());
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

function runCli(args: string[], env: Record<string, string>, input?: string, cwd = REPO_ROOT): Promise<CliResult> {
  return startCli(args, env, input, cwd).done;
}

/** Polls until `check` holds; a condition that never holds fails after POLL_DEADLINE_MS instead of hanging. */
const POLL_DEADLINE_MS = 30_000;
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + POLL_DEADLINE_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(50);
  }
}

describe('corral CLI against a running daemon', { concurrency: 3 }, () => {
  let daemon: DaemonHandle;
  let env: Record<string, string>;
  // From the daemon's workspace root: `new` and `run` start sessions where the caller stands.
  const cli = (args: string[], input?: string): Promise<CliResult> => runCli(args, env, input, daemon.root);

  /** Creates a session over REST directly (faster than through the CLI when the CLI is not what is tested). */
  async function createSession(body: Record<string, unknown>): Promise<SessionInfo> {
    const reply = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', body);
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return reply.body;
  }

  async function waitExit(id: string): Promise<SessionInfo> {
    const reply = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${id}/wait`, {
      exit: true,
      timeoutMs: 20_000,
    });
    assert.equal(reply.body.matched, true, `session ${id} did not exit`);
    return reply.body.session;
  }

  async function textOutput(id: string): Promise<string> {
    const reply = await daemon.request<{ data: string }>('GET', `/api/v1/sessions/${id}/output?format=raw&encoding=utf8`);
    return reply.body.data;
  }

  before(async () => {
    daemon = await startDaemon();
    env = { CORRAL_URL: daemon.url, CORRAL_TOKEN: daemon.token };
  });

  after(async () => {
    await daemon.stop();
    daemon.cleanup();
  });

  test('new, ls, show and kill round-trip a session with --json', async () => {
    const created = await cli(['new', '--json', '--name', 'round-trip', '--task', 'task-rt', '--env', 'GREETING=hi', '--cols', '100', '--rows', '30', '--', 'sleep', '60']);
    assert.equal(created.code, 0, created.stderr);
    const session = JSON.parse(created.stdout) as SessionInfo;
    assert.match(session.id, /^s_/);
    assert.equal(session.name, 'round-trip');
    assert.equal(session.taskId, 'task-rt');
    // The daemon resolves argv[0] on PATH; the arguments stay as given.
    assert.match(session.command[0] ?? '', /(^|\/)sleep$/);
    assert.equal(session.command[1], '60');
    assert.equal(session.cols, 100);
    assert.equal(session.env.GREETING, 'hi');

    const listed = await cli(['ls', '--json', '--task', 'task-rt']);
    assert.equal(listed.code, 0, listed.stderr);
    const { sessions } = JSON.parse(listed.stdout) as { sessions: SessionInfo[] };
    assert.deepEqual(sessions.map((s) => s.id), [session.id]);

    const table = await cli(['ls']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^ID\s+NAME\s+PROFILE\s+STATE\s+TASK\s+PID\s+AGE\s+EXIT$/);
    assert.ok(rows.some((row) => row.startsWith(session.id) && row.includes('round-trip') && row.includes('task-rt')), table.stdout);

    const shown = await cli(['show', session.id, '--json']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as SessionInfo).id, session.id);

    const killed = await cli(['kill', session.id, '--json']);
    assert.equal(killed.code, 0, killed.stderr);
    const ended = JSON.parse(killed.stdout) as SessionInfo;
    assert.equal(ended.state, 'terminated');
    assert.equal(ended.exit?.reason, 'killed');

    const all = await cli(['ls', '--all']);
    assert.match(all.stdout, new RegExp(`${session.id}.*terminated`));
  });

  test('new prints only the id and show prints a readable summary', async () => {
    const created = await cli(['new', '--kind', 'pipe', '--', '/bin/echo', 'plain']);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    assert.match(id, /^s_[A-Za-z0-9_-]{22}$/);
    await waitExit(id);
    const shown = await cli(['show', id]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^state\s+terminated/m);
    assert.match(shown.stdout, /^exit\s+exit 0$/m);
    assert.match(shown.stdout, /^profile\s+command \(pipe\)$/m);
    assert.match(shown.stdout, /^sandbox\s+no sandbox$/m);
  });

  test('show says how a session is held and walled in: its cgroup and limits, its sandbox and what it sees', async () => {
    const created = await daemon.request<SessionInfo>('POST', '/api/v1/sessions', {
      kind: 'pipe',
      command: ['sleep', '600'],
      limits: { processes: 50, cpuWeight: 20 },
      sandbox: { network: 'none' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    try {
      const shown = await cli(['show', created.body.id]);
      assert.equal(shown.code, 0, shown.stderr);
      // Which containment depends on the machine (cgroup v1 here); the limits and the sandbox do not.
      assert.match(shown.stdout, /^contain\s+(cgroup v1|cgroup v2|no cgroup \(process sweep\)), limits: processes 50, cpu weight 20$/m);
      assert.match(shown.stdout, new RegExp(`^sandbox\\s+sandbox bwrap, network none; writable: ${created.body.cwd}\\b.*; read-only: /usr\\b`, 'm'));
    } finally {
      await daemon.request('DELETE', `/api/v1/sessions/${created.body.id}?force=true`);
    }
  });

  test('new --template starts from the stored template, flags win, and an unknown template exits 3 naming the templates', async () => {
    const stored = await daemon.request('POST', '/api/v1/templates', {
      name: 'cli-echo',
      kind: 'pipe',
      command: ['/bin/sh', '-c', 'echo "from-template $GREETING"'],
      env: { GREETING: 'hello' },
      cols: 91,
    });
    assert.equal(stored.status, 201, JSON.stringify(stored.body));
    const created = await cli(['new', '--template', 'cli-echo', '--env', 'GREETING=flag', '--name', 'templated', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const session = JSON.parse(created.stdout) as SessionInfo;
    assert.deepEqual([session.kind, session.cols, session.name], ['pipe', 91, 'templated']);
    await waitExit(session.id);
    assert.equal(await textOutput(session.id), 'from-template flag\n', 'the template ran, with the flag\'s env over the template\'s');
    const missing = await cli(['new', '--template', 'no-such-template']);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /No template "no-such-template"\. Templates: .*cli-echo/);
  });

  test('logs --since prints from the offset and -f follows new output until the session exits', async () => {
    // The session prints one line, then waits for input before the rest: -f must still be running to see it.
    const session = await createSession({ command: ['/bin/sh', '-c', 'echo one; read go; echo two; echo three'], kind: 'pipe' });
    const follow = startCli(['logs', session.id, '-f'], env);
    await until('logs -f to print the first line', () => follow.stdout() === 'one\n');
    await daemon.request('POST', `/api/v1/sessions/${session.id}/input`, { data: 'go\n' });
    const followed = await follow.done;
    assert.equal(followed.code, 0, followed.stderr);
    assert.equal(followed.stdout, 'one\ntwo\nthree\n');
    const since = await cli(['logs', session.id, '--since', String('one\n'.length)]);
    assert.equal(since.stdout, 'two\nthree\n');
    const json = await cli(['logs', session.id, '--since', '4', '--json']);
    const doc = JSON.parse(json.stdout) as { data: string; offset: number; nextOffset: number; gap: number };
    assert.deepEqual(doc, { data: 'two\nthree\n', encoding: 'utf8', offset: 4, nextOffset: 14, firstAvailableOffset: 0, gap: 0 });
  });

  test('send delivers text and named keys to a cat in a terminal', async () => {
    const session = await createSession({ command: ['cat'] });
    const sent = await cli(['send', session.id, 'hello cat', '--key', 'Enter']);
    assert.equal(sent.code, 0, sent.stderr);
    // Ctrl-D on an empty line is EOF for cat: proof the named key reached the terminal as a control byte.
    const eof = await cli(['send', session.id, '--key', 'C-d']);
    assert.equal(eof.code, 0, eof.stderr);
    const ended = await waitExit(session.id);
    assert.equal(ended.exit?.code, 0);
    // The terminal echoes the line, then cat prints it back.
    assert.equal(await textOutput(session.id), 'hello cat\r\nhello cat\r\n');
  });

  test('send --stdin --eof writes standard input and closes a pipe session stdin', async () => {
    const session = await createSession({ command: ['cat'], kind: 'pipe' });
    const sent = await cli(['send', session.id, '--stdin', '--eof'], 'line one\nline two\n');
    assert.equal(sent.code, 0, sent.stderr);
    const ended = await waitExit(session.id);
    assert.equal(ended.exit?.code, 0);
    assert.equal(await textOutput(session.id), 'line one\nline two\n');
  });

  test('wait exits 0 when the pattern appears or the state is reached, and 4 when the timeout passes first', async () => {
    const session = await createSession({ command: ['/bin/sh', '-c', 'sleep 0.3; echo ready-now; sleep 60'], kind: 'pipe' });
    try {
      const matched = await cli(['wait', session.id, '--pattern', 'ready-n[o]w', '--since', '0', '--timeout', '20s', '--json']);
      assert.equal(matched.code, 0, matched.stderr);
      assert.equal((JSON.parse(matched.stdout) as { matched: boolean }).matched, true);
      const state = await cli(['wait', session.id, '--state', 'idle,busy', '--timeout', '20s']);
      assert.equal(state.code, 0, state.stderr);
      assert.equal(state.stdout, 'busy\n');
      const timedOut = await cli(['wait', session.id, '--exit', '--timeout', '300ms']);
      assert.equal(timedOut.code, 4, timedOut.stderr);
      assert.match(timedOut.stderr, /timed out after 300ms/);
      assert.equal(timedOut.stdout, '');
    } finally {
      await daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
    }
  });

  test('run passes the exit code through and keeps stdout and stderr apart', async () => {
    const argv = await cli(['run', '--', '/bin/sh', '-c', 'echo to-out; echo to-err >&2; exit 42']);
    assert.equal(argv.code, 42);
    assert.equal(argv.stdout, 'to-out\n');
    assert.equal(argv.stderr, 'to-err\n');
    const shell = await cli(['run', 'echo $((6 * 7))']);
    assert.equal(shell.code, 0, shell.stderr);
    assert.equal(shell.stdout, '42\n');
  });

  test('run to a pipe passes bytes that are not UTF-8 through unchanged, on stdout and stderr', async () => {
    const script = String.raw`printf '\377\376\200abc'; printf '\342\202' >&2`;
    for (const args of [['run', '--', '/bin/sh', '-c', script], ['run', '--raw', '--', '/bin/sh', '-c', script]]) {
      const result = await cli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual([...result.stdoutBytes], [0xff, 0xfe, 0x80, 0x61, 0x62, 0x63], args.join(' '));
      assert.deepEqual([...result.stderrBytes], [0xe2, 0x82], args.join(' '));
    }
  });

  test('a reader that leaves early ends run, logs and logs -f quietly (run keeps the command\'s exit code)', async () => {
    // Far more than a pipe buffer, so the CLI is still writing when the reader leaves.
    const session = await createSession({ command: ['/bin/sh', '-c', 'seq 1 200000; sleep 60'], kind: 'pipe' });
    try {
      const printed = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${session.id}/wait`, {
        pattern: '^200000$',
        since: 0,
        timeoutMs: 20_000,
      });
      assert.equal(printed.body.matched, true, 'the session printed everything');
      const results = await Promise.all([
        runCliReaderLeaves(['run', '--', '/bin/sh', '-c', 'seq 1 200000; exit 3'], env, daemon.root),
        runCliReaderLeaves(['logs', session.id], env),
        runCliReaderLeaves(['logs', session.id, '-f'], env),
      ]);
      assert.deepEqual(results, [{ code: 3, stderr: '' }, { code: 0, stderr: '' }, { code: 0, stderr: '' }]);
    } finally {
      await daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
    }
  });

  test('run past its timeout exits 4 and names the background session and pid', async () => {
    const result = await cli(['run', '--timeout', '300ms', '--', 'sleep', '60']);
    assert.equal(result.code, 4, result.stderr);
    const named = /session (s_[A-Za-z0-9_-]{22}) pid (\d+)/.exec(result.stderr);
    assert.ok(named, result.stderr);
    const [, id, pid] = named;
    const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
    assert.equal(info.body.state !== 'terminated', true, 'the command keeps running in the background');
    assert.equal(String(info.body.pid), pid);
    await daemon.request('DELETE', `/api/v1/sessions/${id}?force=true`);
  });

  test('logs and screen neutralize escapes and bidi overrides unless --raw', async () => {
    // OSC title, SGR colour, BEL, then U+202E (RIGHT-TO-LEFT OVERRIDE) which lands on the rendered screen as-is.
    const script = String.raw`printf '\033]0;evil\007\033[31mred\033[0m \342\200\256txt.exe\n'`;
    const session = await createSession({ command: ['/bin/sh', '-c', `${script}; sleep 60`] });
    try {
      // The screen is rendered off the output path: wait until it shows the line, not just until the bytes arrived.
      await until('the line to reach the screen', async () => {
        const screen = await daemon.request<{ lines: string[] }>('GET', `/api/v1/sessions/${session.id}/screen`);
        return screen.body.lines.some((line) => line.includes('exe'));
      });
      const logs = await cli(['logs', session.id]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.equal(logs.stdout, 'red <U+202E>txt.exe\n', 'the text view: sequences stripped, what is left made visible');
      const raw = await cli(['logs', session.id, '--raw']);
      assert.equal(raw.stdout, '\u001b]0;evil\u0007\u001b[31mred\u001b[0m \u202Etxt.exe\r\n');
      const screen = await cli(['screen', session.id]);
      assert.equal(screen.code, 0, screen.stderr);
      assert.equal(screen.stdout, 'red <U+202E>txt.exe\n');
      const rawScreen = await cli(['screen', session.id, '--raw']);
      assert.equal(rawScreen.stdout, 'red \u202Etxt.exe\n');
      const json = await cli(['screen', session.id, '--json']);
      assert.equal((JSON.parse(json.stdout) as { lines: string[] }).lines[0]?.trimEnd(), 'red \u202Etxt.exe');
    } finally {
      await daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
    }
  });

  test('logs --json writes C1 controls and bidi overrides as \\u escapes, and parses back to the same output', async () => {
    // U+0085 (a C1 control the text view keeps), U+202E (RIGHT-TO-LEFT OVERRIDE), U+2066 (LEFT-TO-RIGHT ISOLATE).
    const script = String.raw`printf 'a\302\205b \342\200\256txt.exe \342\201\246c\n'`;
    const session = await createSession({ command: ['/bin/sh', '-c', script] });
    try {
      await until('the session to end', async () => {
        const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${session.id}`);
        return info.body.state === 'terminated';
      });
      const json = await cli(['logs', session.id, '--json']);
      assert.equal(json.code, 0, json.stderr);
      // Nothing a terminal would act on reaches it raw: before, U+0085 and U+202E were printed as they are.
      assert.doesNotMatch(json.stdout, /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
      assert.match(json.stdout, /\\u0085b \\u202etxt\.exe \\u2066c/);
      assert.equal((JSON.parse(json.stdout) as { data: string }).data, 'a\u0085b \u202etxt.exe \u2066c\n');
    } finally {
      await daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
    }
  });

  test('an unknown session id exits 3, with a JSON error under --json', async () => {
    const shown = await cli(['show', 's_doesnotexistdoesnotexi']);
    assert.equal(shown.code, 3);
    assert.match(shown.stderr, /No session/);
    const logs = await cli(['logs', 's_doesnotexistdoesnotexi', '--json']);
    assert.equal(logs.code, 3);
    assert.equal((JSON.parse(logs.stdout) as { error: { code: string } }).error.code, 'SESSION_NOT_FOUND');
  });

  test('attach, mcp and token answer --help; their usage errors exit 2, a missing token file 5', async () => {
    const noDir = join(tmpdir(), 'corral-cli-no-such-dir');
    const [attachHelp, mcpHelp, tokenHelp, ...rest] = await Promise.all([
      cli(['attach', '--help']),
      cli(['mcp', '--help']),
      cli(['token', '--help']),
      cli(['token', '--bogus']),
      cli(['token', 'extra']),
      cli(['token', '--json', '--bogus']),
      cli(['attach', 's_doesnotexistdoesnotexi', '--detach-keys', 'C-1']),
      cli(['mcp', '--json', '--no-start', '--bogus']),
      cli(['token', '--data-dir', noDir]),
    ]);
    assert.match(attachHelp.stdout, /^Usage: corral attach <id>/);
    assert.match(mcpHelp.stdout, /^Usage: corral mcp/);
    assert.match(tokenHelp.stdout, /^Usage: corral token/);
    for (const help of [attachHelp, mcpHelp, tokenHelp]) assert.equal(help.code, 0, help.stderr);
    const [bogus, extra, jsonBogus, detachKeys, mcpBogus, noToken] = rest;
    for (const usage of [bogus, extra, jsonBogus, detachKeys, mcpBogus]) assert.equal(usage?.code, 2, usage?.stderr);
    assert.equal((JSON.parse(jsonBogus?.stdout ?? '') as { error: { code: string } }).error.code, 'CLI_ERROR');
    assert.match(detachKeys?.stderr ?? '', /--detach-keys: no control key for "C-1"/);
    assert.match(mcpBogus?.stderr ?? '', /Unknown option '--bogus'/, 'mcp takes --json; only --bogus is refused');
    assert.equal(noToken?.code, 5, noToken?.stderr);
    assert.equal(noToken?.stderr, `corral: No token file in ${noDir} (no daemon has run there). Start one with: corral serve\n`);
  });

  test('attach detaches with exit 0 when its standard input ends, after sending what it read', async () => {
    const session = await createSession({ command: ['cat'] });
    try {
      const attached = await cli(['attach', session.id], 'typed-before-eof\n');
      assert.equal(attached.code, 0, attached.stderr);
      assert.match(attached.stdout, /\[detached from s_[^:]+: end of input\]/);
      await until('the typed line to reach the session', async () => (await textOutput(session.id)).includes('typed-before-eof'));
      assert.notEqual((await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${session.id}`)).body.state, 'terminated');
    } finally {
      await daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
    }
  });

  test('--data-dir wins as a whole, and a data dir never borrows CORRAL_TOKEN: the token comes with the URL', async () => {
    const elsewhere = { CORRAL_URL: 'http://127.0.0.1:9', CORRAL_TOKEN: 'token-of-another-daemon' };
    const explicit = await runCli(['ls', '--json', '--data-dir', daemon.dataDir], elsewhere);
    assert.equal(explicit.code, 0, explicit.stderr);
    const leftover = await runCli(['ls', '--json'], { CORRAL_URL: '', CORRAL_TOKEN: 'token-of-another-daemon', CORRAL_DATA_DIR: daemon.dataDir });
    assert.equal(leftover.code, 0, leftover.stderr);
  });

  test('the README walk-through: new --profile shell, send, wait --state idle, then exec in the shell', async () => {
    const created = await cli(['new', '--profile', 'shell', '--cwd', daemon.root]);
    assert.equal(created.code, 0, created.stderr);
    const id = created.stdout.trim();
    try {
      const sent = await cli(['send', id, 'ls -la', '--key', 'Enter']);
      assert.equal(sent.code, 0, sent.stderr);
      const idle = await cli(['wait', id, '--state', 'idle', '--timeout', '30s']);
      assert.equal(idle.code, 0, idle.stderr);
      const exec = await cli(['exec', id, 'echo from-$((40+2)); false']);
      assert.equal(exec.code, 1, exec.stderr);
      assert.equal(exec.stdout, 'from-42\n');
      const seven = await cli(['exec', id, 'echo seven; (exit 7)']);
      assert.equal(seven.code, 7, 'exec passes the command\'s exit code through, as run does');
      const logs = await cli(['logs', id]);
      assert.equal(logs.code, 0, logs.stderr);
      assert.match(logs.stdout, /from-42/);
      assert.doesNotMatch(logs.stdout, /633;|\^\[|\^G/, 'logs shows the text view: no shell-integration marks, no escapes');
      const raw = await cli(['logs', id, '--raw']);
      assert.ok(raw.stdout.includes('\u001b]633;'), 'logs --raw keeps the bytes, marks included');
    } finally {
      await daemon.request('DELETE', `/api/v1/sessions/${id}?force=true`);
    }
  });

  test('run and new start in the caller\'s directory; from outside every root they refuse with CWD_NOT_ALLOWED', async () => {
    const app = join(daemon.root, 'app');
    mkdirSync(app, { recursive: true });
    const ran = await runCli(['run', '--', 'pwd'], env, undefined, app);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, `${app}\n`);
    const created = await runCli(['new', '--json', '--', 'sleep', '60'], env, undefined, app);
    assert.equal(created.code, 0, created.stderr);
    const session = JSON.parse(created.stdout) as SessionInfo;
    await daemon.request('DELETE', `/api/v1/sessions/${session.id}?force=true`);
    assert.equal(session.cwd, app);
    const outside = tmpdir();
    for (const args of [['run', '--', 'pwd'], ['new', '--', 'sleep', '60']]) {
      const refused = await runCli([...args.slice(0, 1), '--json', ...args.slice(1)], env, undefined, outside);
      assert.equal(refused.code, 2, refused.stdout);
      const error = (JSON.parse(refused.stdout) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'CWD_NOT_ALLOWED');
      assert.match(error.message, /--cwd DIR/);
    }
  });

  test('run without --timeout waits past the old 30 s default for the command\'s own exit code', async () => {
    const result = await cli(['run', '--', '/bin/sh', '-c', 'sleep 33; echo finished; exit 6']);
    assert.equal(result.code, 6, result.stderr);
    assert.equal(result.stdout, 'finished\n');
  });

  test('Ctrl-C (SIGINT to the CLI) ends the command run is waiting for and exits 130', async () => {
    const running = startCli(['run', '--', '/bin/sh', '-c', 'echo started; sleep 45; echo finished'], env, undefined, daemon.root);
    // The CLI relays stdout only at exit: find the session by its task instead.
    let session: SessionInfo | undefined;
    await until('the run session is listed', async () => {
      const list = await daemon.request<{ sessions: SessionInfo[] }>('GET', '/api/v1/sessions');
      session = list.body.sessions.find((s) => s.taskId?.startsWith('corral-run-') === true && s.command.includes('echo started; sleep 45; echo finished'));
      return session !== undefined;
    });
    assert.ok(session !== undefined);
    const started = await daemon.request<{ matched: boolean }>('POST', `/api/v1/sessions/${session.id}/wait`, {
      pattern: 'started',
      since: 0,
      timeoutMs: 30_000,
    });
    assert.equal(started.body.matched, true);
    process.kill(running.pid, 'SIGINT');
    const result = await running.done;
    assert.equal(result.code, 130, result.stderr);
    assert.match(result.stderr, new RegExp(`interrupted; ended session ${session.id}`));
    const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${session.id}`);
    assert.equal(info.body.state, 'terminated');
  });

  test('a session is named by its id, its name or a unique id prefix; ambiguity and no match have stable codes', async () => {
    const first = await createSession({ command: ['sleep', '60'], name: 'ref-dev' });
    const twins = [await createSession({ command: ['sleep', '60'], name: 'ref-twin' }), await createSession({ command: ['sleep', '60'], name: 'ref-twin' })];
    try {
      for (const ref of ['ref-dev', first.id.slice(0, 12), first.id]) {
        const shown = await cli(['show', ref, '--json']);
        assert.equal(shown.code, 0, `${ref}: ${shown.stderr}`);
        assert.equal((JSON.parse(shown.stdout) as SessionInfo).id, first.id, ref);
      }
      for (const ref of ['ref-twin', 's_']) {
        const refused = await cli(['show', ref, '--json']);
        assert.equal(refused.code, 2, refused.stdout);
        const error = (JSON.parse(refused.stdout) as { error: { code: string; message: string } }).error;
        assert.equal(error.code, 'SESSION_AMBIGUOUS', ref);
        if (ref === 'ref-twin') for (const twin of twins) assert.ok(error.message.includes(twin.id), error.message);
      }
      const missing = await cli(['kill', 'no-such-session-name', '--json']);
      assert.equal(missing.code, 3, missing.stdout);
      assert.equal((JSON.parse(missing.stdout) as { error: { code: string } }).error.code, 'SESSION_NOT_FOUND');
      // An ended twin no longer competes with the live one of the same name.
      await daemon.request('DELETE', `/api/v1/sessions/${twins[0]?.id ?? ''}?force=true`);
      const killed = await cli(['kill', 'ref-twin', '--json']);
      assert.equal(killed.code, 0, killed.stderr);
      assert.equal((JSON.parse(killed.stdout) as SessionInfo).id, twins[1]?.id);
    } finally {
      for (const s of [first, ...twins]) await daemon.request('DELETE', `/api/v1/sessions/${s.id}?force=true`);
    }
  });

  test('usage errors exit 2: unknown option, missing condition, bad duration, unknown command', async () => {
    const results = await Promise.all([
      cli(['ls', '--bogus']),
      cli(['wait', 's_doesnotexistdoesnotexi']),
      cli(['wait', 's_doesnotexistdoesnotexi', '--exit', '--timeout', 'soon']),
      cli(['frobnicate']),
    ]);
    for (const result of results) assert.equal(result.code, 2, result.stderr);
    assert.match(results[1]?.stderr ?? '', /give --state, --pattern or --exit/);
    assert.match(results[2]?.stderr ?? '', /--timeout: "soon" is not a duration/);
  });
});

describe('corral CLI without a daemon', () => {
  test('a daemon that does not answer exits 5', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.ok(address !== null && typeof address === 'object');
    const result = await runCli(['ls'], { CORRAL_URL: `http://127.0.0.1:${address.port}`, CORRAL_TOKEN: 'x' });
    assert.equal(result.code, 5, result.stderr);
    assert.match(result.stderr, /Cannot reach the daemon/);
  });

  test('a data dir with no daemon.json exits 5', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-cli-nodaemon-'));
    try {
      const result = await runCli(['ls', '--json'], { CORRAL_URL: '', CORRAL_DATA_DIR: dir });
      assert.equal(result.code, 5, result.stderr);
      assert.equal((JSON.parse(result.stdout) as { error: { code: string } }).error.code, 'NO_DAEMON');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('corral serve', () => {
  test('--help prints every option and exits 0; a malformed option exits 2 before anything starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'corral-cli-serve-'));
    try {
      const env = { CORRAL_URL: '' };
      const help = await runCli(['serve', '--help'], env);
      assert.equal(help.code, 0, help.stderr);
      for (const option of ['--port', '--root', '--max-sessions', '--allow-env', '--webhook-allow']) assert.ok(help.stdout.includes(option), option);
      const bad = await Promise.all([
        runCli(['serve', '--data-dir', dir, '--max-sessions', 'lots'], env),
        runCli(['serve', '--data-dir', dir, '--port', '70000'], env),
        runCli(['serve', '--data-dir', dir, '--log-level', 'loud'], env),
        runCli(['serve', '--data-dir', dir, '--frobnicate'], env),
      ]);
      for (const result of bad) assert.equal(result.code, 2, result.stderr);
      assert.match(bad[0]?.stderr ?? '', /--max-sessions: not a positive whole number: lots/);
      assert.match(bad[3]?.stderr ?? '', /Unknown option '--frobnicate'[\s\S]*Usage: corral serve/);
      assert.deepEqual(readdirSync(dir), [], 'nothing was created in the data dir');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
