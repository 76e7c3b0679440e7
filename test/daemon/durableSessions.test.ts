// Issue 14 with real daemons, holders and processes: sessions outlive the daemon. After kill -9 or SIGTERM a restart
// on the same data dir reattaches every session (same id, same pid, live state), output produced while no daemon
// ran is readable at continuous offsets, input and exec work, and DELETE still ends each whole tree; a killed holder
// ends its session `lost` with its tree; three restarts during a flood leave a byte-exact stream; `corral shutdown
// --end-sessions` ends everything and exits 0.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { corralCommand, REPO_ROOT, startDaemon, stopLeavingNothing, type DaemonHandle } from '../helpers/daemonHarness.js';
import { createSession, fixture, identitiesOfPids, markedProcesses, readText, sessionTree, stillAlive, waitForText } from '../helpers/coreSupport.js';
import { becomeSubreaper, ownTree, parentOf, reapAdoptedOrphans, stateOf, waitUntil } from '../helpers/holderHarness.js';
import { join } from 'node:path';
import { startFakeAnthropic } from '../helpers/fakeAnthropic.js';
import { isAlive, type ProcessIdentity } from '../../src/engine/process/ProcessIdentity.js';
import type { OutputRead, SessionInfo, SessionState } from '../../src/protocol/sessionTypes.js';

const CLAUDE = join(REPO_ROOT, 'node_modules', '.bin', 'claude');
/** A loaded 2-core machine can take many seconds to start the CLI and run a turn. */
const CLAUDE_TIMEOUT_MS = 60_000;

/** A flood the holder's 8 MiB buffer absorbs for a few seconds of downtime before the program blocks. */
const FLOOD_BYTES_PER_SECOND = 2 * 1024 * 1024;
const LINE = 16;
/** The most one output read answers (the route's limit). */
const READ_LIMIT = 4 * 1024 * 1024;

let baseline: string[] = [];
before(() => {
  // Holders whose daemon was killed re-parent to us, as they would to the next daemon's subreaper; we reap them.
  becomeSubreaper();
  baseline = ownTree();
});
after(async () => {
  await reapAdoptedOrphans(baseline);
});

async function info(daemon: DaemonHandle, id: string): Promise<SessionInfo> {
  const got = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${id}`);
  assert.equal(got.status, 200, JSON.stringify(got.body));
  return got.body;
}

async function waitState(daemon: DaemonHandle, id: string, states: SessionState[]): Promise<void> {
  const wait = await daemon.request<{ matched: boolean; session: SessionInfo }>('POST', `/api/v1/sessions/${id}/wait`, { states, timeoutMs: 20_000 });
  assert.equal(wait.body.matched, true, `${id} never reached ${states.join('/')}: ${JSON.stringify(wait.body.session)}`);
}

/** The raw stream from 0 up to at least `end` bytes, page by page. */
async function readStream(daemon: DaemonHandle, id: string, stream: 'combined' | 'stdout', end: number): Promise<string> {
  let text = '';
  let offset = 0;
  while (offset < end) {
    const out = await daemon.request<OutputRead>('GET', `/api/v1/sessions/${id}/output?format=raw&encoding=utf8&stream=${stream}&since=${offset}&limit=${READ_LIMIT}`);
    assert.equal(out.status, 200, JSON.stringify(out.body));
    assert.equal(out.body.offset, offset, `a gap in ${stream} at ${offset}`);
    if (out.body.nextOffset === offset) break;
    text += out.body.data;
    offset = out.body.nextOffset;
  }
  return text;
}

/** Line i of the flood is the number i: any lost, repeated or reordered byte breaks it. Answers the line count. */
function assertNumbered(text: string, what: string): number {
  const lines = Math.floor(text.length / LINE);
  for (let i = 0; i < lines; i++) {
    const line = text.slice(i * LINE, (i + 1) * LINE);
    if (line !== String(i).padStart(LINE - 1, '0') + '\n') assert.fail(`${what}: line ${i} at offset ${i * LINE} is ${JSON.stringify(line)}`);
  }
  return lines;
}

async function assertFloodExact(daemon: DaemonHandle, id: string): Promise<number> {
  const now = await info(daemon, id);
  const stdout = await readStream(daemon, id, 'stdout', now.output.stdoutBytes);
  const lines = assertNumbered(stdout, 'stdout');
  const combined = await readStream(daemon, id, 'combined', now.output.stdoutBytes);
  assertNumbered(combined, 'combined');
  return lines;
}

/** DELETE ends the whole tree: nothing of it runs, nothing carries its marker, no zombie is left of it. */
async function endAndCheck(daemon: DaemonHandle, id: string, processes: readonly ProcessIdentity[]): Promise<void> {
  const ended = await daemon.request<SessionInfo>('DELETE', `/api/v1/sessions/${id}`);
  assert.equal(ended.status, 200, JSON.stringify(ended.body));
  assert.equal(ended.body.state, 'terminated');
  assert.deepEqual(stillAlive(processes), [], `${id}: processes survived DELETE`);
  assert.deepEqual(markedProcesses(id), []);
  // The holder reaps what it owned: no zombie of the tree remains.
  await waitUntil(`${id}'s processes reaped`, () => processes.every((p) => stateOf(p.pid) === undefined || stateOf(p.pid) !== 'Z'));
}

interface Scene {
  shell: SessionInfo;
  flood: SessionInfo;
  escapee: SessionInfo;
  cat: SessionInfo;
  escaped: ProcessIdentity;
}

/** A pty shell printing through the downtime, a flooding pipe, a setsid escapee and a pipe that echoes input. */
async function startScene(daemon: DaemonHandle): Promise<Scene> {
  const shell = await createSession(daemon, { profile: 'shell', name: 'shell' });
  await waitState(daemon, shell.id, ['ready', 'idle']);
  const flood = await createSession(daemon, { kind: 'pipe', name: 'flood', command: [process.execPath, fixture('numbered-flood.mjs'), String(FLOOD_BYTES_PER_SECOND)] });
  const escapee = await createSession(daemon, { kind: 'pipe', name: 'escapee', command: [fixture('setsid-grandchild.sh')] });
  const [escaped] = identitiesOfPids(await waitForText(daemon, escapee.id, String.raw`^\d+\s*$`));
  assert.ok(escaped !== undefined);
  const cat = await createSession(daemon, { kind: 'pipe', name: 'cat', command: ['/bin/cat'] });
  const input = await daemon.request('POST', `/api/v1/sessions/${shell.id}/input`, { data: 'for i in $(seq 1 60); do echo tick-$i; sleep 0.1; done\n' });
  assert.equal(input.status, 200, JSON.stringify(input.body));
  await waitForText(daemon, shell.id, 'tick-3\r?\n');
  return { shell, flood, escapee, cat, escaped };
}

/** After a restart: same ids and pids, live, the downtime's output there, input and exec working; then DELETE. */
async function checkSceneAfterRestart(daemon: DaemonHandle, scene: Scene, floodBytesBefore: number): Promise<void> {
  for (const before of [scene.shell, scene.flood, scene.escapee, scene.cat]) {
    const now = await info(daemon, before.id);
    assert.equal(now.id, before.id);
    assert.equal(now.pid, before.pid, `${before.name}: another process after the restart`);
    assert.notEqual(now.state, 'terminated', `${before.name}: ${JSON.stringify(now.exit)}`);
  }
  // The shell printed ticks while no daemon ran; all of them are there, then it is at its prompt again.
  const ticks = await waitForText(daemon, scene.shell.id, 'tick-60\r?\n');
  for (let i = 1; i <= 60; i++) assert.match(ticks, new RegExp(`tick-${i}\\r?\\n`), `tick-${i} is missing`);
  await waitState(daemon, scene.shell.id, ['idle']);
  const exec = await daemon.request<{ output: string; exitCode: number }>('POST', `/api/v1/sessions/${scene.shell.id}/commands`, { command: 'echo after-$((40+2))', timeoutMs: 20_000 });
  assert.equal(exec.status, 200, JSON.stringify(exec.body));
  assert.match(exec.body.output, /after-42/);
  assert.equal(exec.body.exitCode, 0);
  // The flood went on while no daemon ran (until the holder's buffer was full): byte-exact from 0.
  const lines = await assertFloodExact(daemon, scene.flood.id);
  assert.ok(lines * LINE > floodBytesBefore + FLOOD_BYTES_PER_SECOND, `the flood barely moved: ${lines * LINE} bytes after ${floodBytesBefore}`);
  // Input reaches a reattached program.
  const sent = await daemon.request('POST', `/api/v1/sessions/${scene.cat.id}/input`, { data: 'echoed-after-restart\n' });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  await waitForText(daemon, scene.cat.id, 'echoed-after-restart');
  const trees = new Map<string, ProcessIdentity[]>();
  for (const session of [scene.shell, scene.flood, scene.escapee, scene.cat]) trees.set(session.id, sessionTree(await info(daemon, session.id)));
  trees.get(scene.escapee.id)?.push(scene.escaped);
  for (const [id, tree] of trees) await endAndCheck(daemon, id, tree);
  assert.equal(isAlive(scene.escaped), false, 'the setsid escapee outlived DELETE');
}

test('kill -9 of the daemon: a restart reattaches every session with the downtime output, input, exec and whole-tree DELETE', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const scene = await startScene(first);
    const floodBefore = (await info(first, scene.flood.id)).output.stdoutBytes;
    await first.crash();
    // Output keeps being produced with no daemon: the holders keep it.
    await sleep(5000);
    assert.equal(isAlive(scene.escaped), true);
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    await checkSceneAfterRestart(second, scene, floodBefore);
  } finally {
    await stopLeavingNothing(first, second);
  }
});

test('SIGTERM stops the daemon with exit 0 and every session running; the next start reattaches them', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const scene = await startScene(first);
    const floodBefore = (await info(first, scene.flood.id)).output.stdoutBytes;
    assert.equal(await first.stop('keep-sessions'), 0, first.stderr());
    await sleep(5000);
    for (const session of [scene.shell, scene.flood, scene.escapee, scene.cat]) {
      assert.ok(session.pid !== null && stateOf(session.pid) !== undefined && stateOf(session.pid) !== 'Z', `${session.name} did not keep running`);
    }
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    await checkSceneAfterRestart(second, scene, floodBefore);
  } finally {
    await stopLeavingNothing(first, second);
  }
});

test('a holder killed with kill -9 while the daemon runs: its session ends lost and its whole tree is killed', async () => {
  const daemon = await startDaemon();
  try {
    const session = await createSession(daemon, { kind: 'pipe', command: [fixture('setsid-grandchild.sh')] });
    const [escaped] = identitiesOfPids(await waitForText(daemon, session.id, String.raw`^\d+\s*$`));
    assert.ok(escaped !== undefined && session.pid !== null);
    const tree = sessionTree(session);
    const holder = parentOf(session.pid);
    assert.ok(holder !== undefined && holder !== daemon.pid, 'the program runs under its holder');
    process.kill(holder, 'SIGKILL');
    await waitState(daemon, session.id, ['terminated']);
    const ended = await info(daemon, session.id);
    assert.equal(ended.exit?.reason, 'lost', JSON.stringify(ended.exit));
    assert.deepEqual(stillAlive([...tree, escaped]), []);
    assert.deepEqual(markedProcesses(session.id), []);
  } finally {
    await stopLeavingNothing(daemon);
  }
});

test('three restarts in a row during a flood (crash, SIGTERM, crash): the stream is byte-exact, no duplicate, no gap', async () => {
  const first = await startDaemon();
  const daemons: DaemonHandle[] = [first];
  try {
    const flood = await createSession(first, { kind: 'pipe', command: [process.execPath, fixture('numbered-flood.mjs'), String(FLOOD_BYTES_PER_SECOND)] });
    await waitForText(first, flood.id, '000000000000100\n');
    let current = first;
    for (const how of ['crash', 'sigterm', 'crash'] as const) {
      if (how === 'crash') await current.crash();
      else assert.equal(await current.stop('keep-sessions'), 0);
      await sleep(1000);
      current = await startDaemon({ dataDir: first.dataDir, base: first.base });
      daemons.push(current);
      assert.equal((await info(current, flood.id)).pid, flood.pid);
      await sleep(500);
    }
    const lines = await assertFloodExact(current, flood.id);
    assert.ok(lines > 1000, `only ${lines} lines`);
  } finally {
    await stopLeavingNothing(first, ...daemons.slice(1));
  }
});

test('corral shutdown --end-sessions ends every session by the escalation, stops the daemon, and exits 0', async () => {
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const shell = await createSession(first, { profile: 'shell' });
    const sleeper = await createSession(first, { kind: 'pipe', command: ['/bin/sh', '-c', 'echo up; exec sleep 1000'] });
    await waitForText(first, sleeper.id, 'up');
    const trees = [shell, sleeper].flatMap((session) => sessionTree(session));
    const { file, args } = corralCommand(false);
    const cli = spawnSync(file, [...args, 'shutdown', '--end-sessions', '--data-dir', first.dataDir], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /2 session\(s\) ended/);
    assert.equal(await first.stop('keep-sessions'), 0, 'the daemon exits 0 by itself');
    assert.deepEqual(stillAlive(trees), []);
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    for (const session of [shell, sleeper]) {
      const ended = await info(second, session.id);
      assert.equal(ended.state, 'terminated');
      assert.equal(ended.exit?.reason, 'shutdown');
    }
    assert.equal(await readText(second, sleeper.id), 'up\n');
  } finally {
    await stopLeavingNothing(first, second);
  }
});

test('a Claude session survives kill -9 of the daemon: waiting on its permission dialog again, answered, then it answers a prompt', async () => {
  const fake = await startFakeAnthropic();
  const first = await startDaemon();
  let second: DaemonHandle | null = null;
  try {
    const created = await first.request<SessionInfo>('POST', '/api/v1/sessions/claude', {
      environment: { ANTHROPIC_BASE_URL: fake.url, CLAUDE_CODE_MAX_RETRIES: '0' },
      authToken: 'sk-ant-corral-durable-0123456789abcdefghij',
      home: 'isolated',
      preAnswer: true,
      executable: CLAUDE,
      // Manual permissions: a tool call stops on Claude's permission dialog.
      args: ['--permission-mode', 'manual'],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    const ready = await first.request<{ matched: boolean }>('POST', `/api/v1/sessions/${id}/wait`, { states: ['ready'], timeoutMs: CLAUDE_TIMEOUT_MS });
    assert.ok(ready.body.matched);
    const before = await first.request<{ state: string; reply: string }>('POST', `/api/v1/sessions/${id}/prompt`, { text: 'before the crash', timeoutMs: CLAUDE_TIMEOUT_MS });
    assert.equal(before.body.reply, 'echo: before the crash', JSON.stringify(before.body));
    // A tool call stops on Claude's permission dialog.
    const asked = await first.request<{ state: string }>('POST', `/api/v1/sessions/${id}/prompt`, {
      text: 'bash: touch made-by-tool.txt && echo touched',
      timeoutMs: CLAUDE_TIMEOUT_MS,
    });
    assert.equal(asked.body.state, 'waiting_input', JSON.stringify(asked.body));
    await first.crash();
    await sleep(2000);
    second = await startDaemon({ dataDir: first.dataDir, base: first.base });
    const after = await info(second, id);
    assert.equal(after.pid, created.body.pid);
    assert.equal(after.state, 'waiting_input', 'the dialog is still what the session waits on');
    const answered = await second.request<{ dialog: string }>('POST', `/api/v1/sessions/${id}/answer`, { choice: 'Yes', timeoutMs: CLAUDE_TIMEOUT_MS });
    assert.equal(answered.status, 200, JSON.stringify(answered.body));
    assert.equal(answered.body.dialog, 'permission');
    await waitState(second, id, ['idle']);
    const prompt = await second.request<{ state: string; reply: string }>('POST', `/api/v1/sessions/${id}/prompt`, { text: 'after the crash', timeoutMs: CLAUDE_TIMEOUT_MS });
    assert.equal(prompt.status, 200, JSON.stringify(prompt.body));
    assert.equal(prompt.body.reply, 'echo: after the crash');
    const tree = sessionTree(after);
    await endAndCheck(second, id, tree);
  } finally {
    await stopLeavingNothing(first, second);
    await fake.close();
  }
});

test('holders whose data dir is deleted while no daemon runs end their sessions\' trees and exit; holders of a data dir left in place wait', async () => {
  const gone = await startDaemon();
  const waits = await startDaemon();
  let back: DaemonHandle | null = null;
  try {
    // One program still running (with an escaped grandchild), one that ends after the daemon is gone.
    const running = await createSession(gone, { kind: 'pipe', command: [fixture('setsid-grandchild.sh')] });
    const [escaped] = identitiesOfPids(await waitForText(gone, running.id, String.raw`^\d+\s*$`));
    const ending = await createSession(gone, { kind: 'pipe', command: ['sh', '-c', 'sleep 1; echo done'] });
    const keeps = await createSession(waits, { kind: 'pipe', command: ['sh', '-c', 'while sleep 0.2; do echo tick; done'] });
    const holders = [running, ending, keeps].map((session) => {
      assert.ok(session.pid !== null);
      const holder = parentOf(session.pid);
      assert.ok(holder !== undefined && holder !== gone.pid && holder !== waits.pid, `${session.id} runs under its holder`);
      return holder;
    });
    assert.ok(escaped !== undefined);
    const doomed = [...sessionTree(running), ...sessionTree(ending), escaped, ...identitiesOfPids(holders.slice(0, 2).join('\n'))];
    const kept = [...sessionTree(keeps), ...identitiesOfPids(String(holders[2]))];
    await gone.crash();
    await waits.crash();
    rmSync(gone.dataDir, { recursive: true, force: true });
    // A holder looks at its socket's file every 5 s while no daemon is attached, then gives SIGTERM 3 s.
    await waitUntil('the abandoned holders and their trees to end', () => stillAlive(doomed).length === 0, 30_000);
    assert.deepEqual(markedProcesses(running.id), []);
    assert.deepEqual(markedProcesses(ending.id), []);
    // The holder whose socket is still there was looked at at least twice by now: it waits for the next daemon.
    await sleep(11_000);
    assert.deepEqual(stillAlive(kept), kept, 'a holder whose socket is in place is not abandoned');
    back = await startDaemon({ dataDir: waits.dataDir, base: waits.base });
    const reattached = await info(back, keeps.id);
    assert.equal(reattached.pid, keeps.pid);
    assert.notEqual(reattached.state, 'terminated', JSON.stringify(reattached));
  } finally {
    if (back !== null) await back.stop('end-sessions');
    gone.cleanup();
    waits.cleanup();
  }
});
