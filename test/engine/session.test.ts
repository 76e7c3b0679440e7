import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine } from '../support/engineHarness.js';

test('a pty command runs, its output is readable by cursor, and it ends terminated with its exit code', async () => {
  const engine = await startEngine();
  try {
    const { session } = engine.manager.create({ command: ['/bin/sh', '-c', 'printf "hello\\n"; exit 7'] });
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
