import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startEngine } from '../helpers/engineHarness.js';

test('a pty command runs, its output is readable by cursor, and it ends terminated with its exit code', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ command: ['/bin/sh', '-c', 'printf "hello\\n"; exit 7'] });
    assert.equal(session.state, 'busy');
    const exit = await session.whenTerminated();
    assert.equal(exit.code, 7);
    assert.equal(exit.reason, 'exited');
    const out = session.readOutput({ since: 0, format: 'text', encoding: 'utf8', maxBytes: 1 << 20, stream: 'combined' });
    assert.equal(out.data, 'hello\n');
    assert.equal(out.gap, 0);
    const again = session.readOutput({ since: 0, format: 'raw', encoding: 'base64', maxBytes: 1 << 20, stream: 'combined' });
    assert.equal(Buffer.from(again.data, 'base64').toString(), 'hello\r\n');
    const events = engine.store.listEvents(session.id, { limit: 100 });
    assert.deepEqual(events.map((e) => e.to), ['initializing', 'busy', 'terminated']);
  } finally {
    await engine.close();
  }
});

test('a session whose program closes its terminal and keeps running stays live until the program ends', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({
      command: ['/bin/bash', '-c', 'echo started; exec </dev/null >/dev/null 2>&1; sleep 1; exit 3'],
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // It used to be hung up ~10 ms after the redirect: terminated by SIGHUP while `sleep` still had 990 ms to go.
    assert.notEqual(session.state, 'terminated');
    const exit = await session.whenTerminated();
    assert.deepEqual({ code: exit.code, signal: exit.signal, reason: exit.reason }, { code: 3, signal: null, reason: 'exited' });
    const out = session.readOutput({ since: 0, format: 'text', encoding: 'utf8', maxBytes: 1 << 20, stream: 'combined' });
    assert.equal(out.data, 'started\n');
  } finally {
    await engine.close();
  }
});

test('a pipe session keeps stdout and stderr apart', async () => {
  const engine = await startEngine();
  try {
    const result = await engine.manager.exec({ command: 'echo out; echo err >&2; exit 3', timeoutMs: 5000 });
    assert.equal(result.stdout, 'out\n');
    assert.equal(result.stderr, 'err\n');
    assert.equal(result.exitCode, 3);
    assert.equal(result.timedOut, false);
  } finally {
    await engine.close();
  }
});

test('rlimits apply from the first instruction: an open-files limit is what the program sees', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({
      kind: 'pipe',
      command: ['/bin/sh', '-c', 'ulimit -n'],
      limits: { openFiles: 64 },
    });
    const exit = await session.whenTerminated();
    assert.equal(exit.code, 0);
    const out = session.readOutput({ since: 0, format: 'text', encoding: 'utf8', maxBytes: 1024, stream: 'stdout' });
    assert.equal(out.data.trim(), '64');
    assert.deepEqual(session.toInfo().command, ['/bin/sh', '-c', 'ulimit -n']);
  } finally {
    await engine.close();
  }
});

test('retention removes ended sessions older than the policy, with their output on disk, and keeps live ones', async () => {
  const engine = await startEngine({ retentionMs: 1 });
  try {
    const { session: ended } = await engine.manager.create({ command: ['/bin/echo', 'output that goes to disk'] });
    await ended.whenTerminated();
    const { session: live } = await engine.manager.create({ command: ['/bin/sleep', '30'] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const dir = join(engine.dataDir, 'sessions', ended.id);
    assert.equal(existsSync(dir), true);
    assert.equal(engine.manager.applyRetention(), 1);
    assert.equal(engine.store.getSession(ended.id), undefined);
    assert.equal(engine.manager.find(ended.id), undefined);
    assert.equal(existsSync(dir), false);
    assert.equal(engine.store.getSession(live.id)?.info.id, live.id);
    assert.equal(live.isLive, true);
  } finally {
    await engine.close();
  }
});

test('a forced terminate goes straight to SIGKILL and says so', async () => {
  const engine = await startEngine({ graces: { politeMs: 5000, interruptMs: 5000, termMs: 5000 } });
  try {
    const { session } = await engine.manager.create({ command: ['/bin/sleep', '60'] });
    const info = await engine.manager.terminate(session.id, { force: true });
    assert.equal(info.exit?.signal, 'SIGKILL');
    assert.equal(info.exit?.forced, true);
    assert.equal(info.exit?.reason, 'killed');
  } finally {
    await engine.close();
  }
});

test('a pattern wait from an offset matches output of a session that has already ended', async () => {
  const engine = await startEngine();
  try {
    const { session } = await engine.manager.create({ command: ['/bin/echo', 'needle'] });
    await session.whenTerminated();
    const result = await engine.manager.wait(session.id, { pattern: 'needle', since: 0, timeoutMs: 1000 });
    assert.equal(result.matched, true);
    assert.equal(result.outcome, 'pattern');
  } finally {
    await engine.close();
  }
});

test('engine events come in order: created before the first state change, and a finished exec as command.finished', async () => {
  const engine = await startEngine();
  try {
    const seen: string[] = [];
    const sub = engine.manager.onEvent((event) => seen.push(event.type === 'session.state' ? `state:${event.event.to}` : event.type));
    const { session } = await engine.manager.create({ profile: 'shell', command: ['/bin/bash'] });
    const { shellExec } = await import('../../src/engine/shell/ShellExec.js');
    const result = await shellExec(session, engine.manager.history, { command: 'exit 0 | true; echo hi', timeoutMs: 10_000 });
    assert.equal(result.exitCode, 0);
    assert.equal(seen[0], 'session.created');
    assert.ok(seen.includes('command.finished'), seen.join(','));
    const history = engine.store.listCommands(session.id, { limit: 10 });
    assert.equal(history.length, 1);
    assert.equal(history[0]?.seq, 1);
    assert.equal(history[0]?.exitCode, 0);
    sub.dispose();
  } finally {
    await engine.close();
  }
});
