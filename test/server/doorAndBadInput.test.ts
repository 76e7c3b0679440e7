// Proves PRODUCT §3 at the daemon's door: the auth matrix (token, Host, Origin, token in a URL) on several routes,
// each bad input answered with its stable code while nothing changes (through `inject()` on a daemon built in this
// process), and the daemon's own environment and token never reaching a session (a spawned daemon). Must never send
// the token anywhere but 127.0.0.1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { WebSocket } from 'ws';
import { startDaemon } from '../helpers/daemonHarness.js';
import { startInProcessDaemon, type InProcessDaemonHandle } from '../helpers/inProcessDaemon.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';
import { createSession, listIds, readText } from '../helpers/coreSupport.js';

/** A value only the daemon's environment holds: it must never show up in a session. */
const SECRET_PROBE = 'corral-secret-probe-4f1d2c';
/** Just past the daemon's 2 MiB body limit. */
const HUGE_BODY_BYTES = 2 * 1024 * 1024 + 1024;

interface RawReply {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** A request with full control of the headers (the Host is the daemon's unless `headers` names another). */
async function raw(daemon: InProcessDaemonHandle, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<RawReply> {
  const res = await daemon.inject({ method: method as InjectOptions['method'], url: path, headers, ...(body === undefined ? {} : { payload: body }) });
  // /metrics answers Prometheus text, everything else JSON.
  const isJson = String(res.headers['content-type'] ?? '').includes('json');
  return { status: res.statusCode, body: isJson && res.body !== '' ? (JSON.parse(res.body) as RawReply['body']) : { text: res.body } };
}

let daemon: InProcessDaemonHandle;
let probe: SessionInfo;
let idsBefore: string[];

before(async () => {
  // Listening too: the malformed-escapes case makes a WebSocket upgrade, which inject() cannot.
  daemon = await startInProcessDaemon({ listen: true });
  // One live session, for routes that need an id; the list must stay exactly this through every bad request.
  probe = await createSession(daemon, { command: ['/bin/sleep', '1000'] });
  idsBefore = await listIds(daemon);
});

after(async () => {
  await daemon.stop();
  daemon.cleanup();
});

const ROUTES = (): { method: string; path: string; body?: string }[] => [
  { method: 'GET', path: '/api/v1/sessions' },
  { method: 'GET', path: `/api/v1/sessions/${probe.id}` },
  { method: 'GET', path: `/api/v1/sessions/${probe.id}/output?since=0` },
  { method: 'GET', path: '/api/v1/stats' },
  { method: 'GET', path: '/metrics' },
  { method: 'POST', path: '/api/v1/sessions', body: JSON.stringify({ command: ['/bin/true'] }) },
];

test('auth matrix: no token, wrong token and a token in the query are 401; foreign Host and Origin are 403', async () => {
  const bearer = `Bearer ${daemon.token}`;
  const json = { 'content-type': 'application/json' };
  for (const route of ROUTES()) {
    const send = (headers: Record<string, string>, path = route.path): Promise<RawReply> =>
      raw(daemon, route.method, path, { ...(route.body === undefined ? {} : json), ...headers }, route.body);
    const label = `${route.method} ${route.path}`;
    const noToken = await send({});
    assert.equal(noToken.status, 401, label);
    assert.equal(noToken.body.error?.code, 'UNAUTHORIZED', label);
    assert.equal((await send({ authorization: 'Bearer wrong-token-of-the-same-shape-000000000' })).status, 401, label);
    assert.equal((await send({ authorization: `Basic ${daemon.token}` })).status, 401, label);
    const sep = route.path.includes('?') ? '&' : '?';
    assert.equal((await send({}, `${route.path}${sep}token=${daemon.token}`)).status, 401, `${label}: token in the query`);
    const both = await send({ authorization: bearer }, `${route.path}${sep}token=${daemon.token}`);
    assert.equal(both.status, 401, `${label}: a token in the URL is refused even with a right header`);
    const host = await send({ authorization: bearer, host: `evil.example:${new URL(daemon.url).port}` });
    assert.equal(host.status, 403, label);
    assert.equal(host.body.error?.code, 'FORBIDDEN_HOST', label);
    const origin = await send({ authorization: bearer, origin: 'http://evil.example' });
    assert.equal(origin.status, 403, label);
    assert.equal(origin.body.error?.code, 'FORBIDDEN_ORIGIN', label);
  }
  // The good requests, read-only ones only (creating would change the list).
  for (const route of ROUTES().filter((r) => r.method === 'GET')) {
    const ok = await raw(daemon, 'GET', route.path, { authorization: bearer, origin: daemon.url });
    assert.equal(ok.status, 200, `${route.path} with an allowed Origin`);
  }
  assert.deepEqual(await listIds(daemon), idsBefore, 'a refused request created a session');
});

test('/healthz needs no token but still checks Host and Origin', async () => {
  assert.equal((await raw(daemon, 'GET', '/healthz', {})).status, 200);
  assert.equal((await raw(daemon, 'GET', '/healthz', { host: 'evil.example' })).status, 403);
  assert.equal((await raw(daemon, 'GET', '/healthz', { origin: 'http://evil.example' })).status, 403);
  const healthy = await raw(daemon, 'GET', '/healthz', { origin: daemon.url });
  assert.equal(healthy.status, 200);
  assert.equal(JSON.stringify(healthy.body).includes(daemon.token), false);
});

test('each bad input gets its stable code and changes nothing', async () => {
  const auth = { authorization: `Bearer ${daemon.token}`, 'content-type': 'application/json' };
  const outside = join(daemon.base, 'outside');
  mkdirSync(outside, { recursive: true });
  const escape = join(daemon.root, 'escape');
  symlinkSync(outside, escape);
  const sessions = '/api/v1/sessions';
  const cases: { name: string; method: string; path: string; body: Buffer | string; status: number; code: string; headers?: Record<string, string> }[] = [
    // Framework errors, raised before any route runs, answer in the catalog shape too.
    { name: 'malformed %-escape in the path', method: 'GET', path: `${sessions}/%E0%A4%A`, body: '', status: 400, code: 'BAD_URL' },
    { name: 'overlong path segment', method: 'GET', path: `${sessions}/${'s'.repeat(500)}`, body: '', status: 414, code: 'URL_TOO_LONG' },
    { name: 'wrong content type', method: 'POST', path: sessions, body: 'command=/bin/true', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', headers: { 'content-type': 'text/plain' } },
    { name: 'a body of null (not a default shell)', method: 'POST', path: sessions, body: 'null', status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a body of null (exec)', method: 'POST', path: '/api/v1/exec', body: 'null', status: 400, code: 'VALIDATION_FAILED' },
    { name: 'a JSON array body', method: 'POST', path: sessions, body: '[]', status: 400, code: 'VALIDATION_FAILED' },
    { name: 'wrong type', method: 'POST', path: sessions, body: JSON.stringify({ command: '/bin/true' }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'wrong type (cols)', method: 'POST', path: sessions, body: JSON.stringify({ cols: '80' }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'unknown field', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], bogus: 1 }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'invalid UTF-8', method: 'POST', path: sessions, body: Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), status: 400, code: 'INVALID_UTF8' },
    { name: 'invalid JSON', method: 'POST', path: sessions, body: '{"command": [', status: 400, code: 'BAD_REQUEST' },
    { name: 'huge body', method: 'POST', path: sessions, body: JSON.stringify({ name: 'x'.repeat(HUGE_BODY_BYTES) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
    { name: 'absurd cols', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], cols: 100_000, rows: 40 }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'absurd rows', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], cols: 80, rows: -1 }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'absurd resize', method: 'POST', path: `${sessions}/${probe.id}/resize`, body: JSON.stringify({ cols: 1e9, rows: 1 }), status: 400, code: 'VALIDATION_FAILED' },
    { name: 'cwd outside the root', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], cwd: outside }), status: 400, code: 'CWD_NOT_ALLOWED' },
    { name: 'cwd through a symlink out of the root', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], cwd: escape }), status: 400, code: 'CWD_NOT_ALLOWED' },
    { name: 'cwd with ..', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], cwd: join(daemon.root, '..', 'outside') }), status: 400, code: 'CWD_NOT_ALLOWED' },
    { name: 'LD_PRELOAD', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], env: { LD_PRELOAD: '/tmp/x.so' } }), status: 400, code: 'ENV_NOT_ALLOWED' },
    { name: 'NODE_OPTIONS', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], env: { NODE_OPTIONS: '--require /tmp/x.js' } }), status: 400, code: 'ENV_NOT_ALLOWED' },
    { name: 'BASH_ENV', method: 'POST', path: sessions, body: JSON.stringify({ command: ['/bin/true'], env: { BASH_ENV: '/tmp/x.sh' } }), status: 400, code: 'ENV_NOT_ALLOWED' },
    { name: 'exponential regex in search', method: 'GET', path: `${sessions}/${probe.id}/search?pattern=${encodeURIComponent('(a+)+$')}&ignoreCase=true`, body: '', status: 400, code: 'INVALID_PATTERN' },
    { name: 'bad regex in wait', method: 'POST', path: `${sessions}/${probe.id}/wait`, body: JSON.stringify({ pattern: '(unclosed', timeoutMs: 10 }), status: 400, code: 'INVALID_PATTERN' },
    { name: 'unknown key', method: 'POST', path: `${sessions}/${probe.id}/input`, body: JSON.stringify({ keys: ['Hyper-Q'] }), status: 400, code: 'INVALID_KEY' },
    { name: 'unknown id (get)', method: 'GET', path: `${sessions}/s_AAAAAAAAAAAAAAAAAAAAAA`, body: '', status: 404, code: 'SESSION_NOT_FOUND' },
    { name: 'unknown id (delete)', method: 'DELETE', path: `${sessions}/s_AAAAAAAAAAAAAAAAAAAAAA`, body: '', status: 404, code: 'SESSION_NOT_FOUND' },
    { name: 'unknown id (input)', method: 'POST', path: `${sessions}/s_AAAAAAAAAAAAAAAAAAAAAA/input`, body: JSON.stringify({ data: 'x' }), status: 404, code: 'SESSION_NOT_FOUND' },
    { name: 'negative cursor', method: 'GET', path: `${sessions}/${probe.id}/output?since=-5`, body: '', status: 400, code: 'VALIDATION_FAILED' },
  ];
  const problems: string[] = [];
  for (const c of cases) {
    const headers = { ...(c.method === 'GET' || c.method === 'DELETE' ? { authorization: auth.authorization } : auth), ...c.headers };
    const reply = await raw(daemon, c.method, c.path, headers, c.body === '' ? undefined : c.body);
    if (reply.status !== c.status || reply.body.error?.code !== c.code || typeof reply.body.error.message !== 'string') {
      problems.push(`${c.name}: ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(await listIds(daemon), idsBefore, 'a refused request changed the session list');
  const info = await daemon.request<SessionInfo>('GET', `/api/v1/sessions/${probe.id}`);
  assert.equal(info.body.state !== 'terminated', true, 'the probe session was ended by a bad request');
  assert.deepEqual([info.body.cols, info.body.rows], [probe.cols, probe.rows], 'a refused resize changed the size');
});

test("the daemon's environment and token never reach a session's environment", async () => {
  // The daemon's environment is its process's: this case spawns `corral serve` with the probe in it.
  const spawned = await startDaemon({ env: { CORRAL_SECRET_PROBE: SECRET_PROBE } });
  try {
    for (const kind of ['pty', 'pipe'] as const) {
      const info = await createSession(spawned, { kind, command: ['/usr/bin/env'] });
      const wait = await spawned.request<{ matched: boolean }>('POST', `/api/v1/sessions/${info.id}/wait`, { exit: true, timeoutMs: 20_000 });
      assert.equal(wait.body.matched, true);
      const env = await readText(spawned, info.id);
      assert.ok(env.includes('CORRAL_SESSION_ID='), `${kind}: expected env output, got ${JSON.stringify(env.slice(0, 200))}`);
      assert.equal(env.includes(SECRET_PROBE), false, `${kind}: the daemon's env leaked into the session`);
      assert.equal(env.includes('CORRAL_SECRET_PROBE'), false);
      assert.equal(env.includes(spawned.token), false, `${kind}: the token leaked into the session`);
    }
  } finally {
    await spawned.stop();
    spawned.cleanup();
  }
});

test('malformed escapes in a cookie or a WebSocket path are refused as absent or unknown, never a server error', async () => {
  const bearer = `Bearer ${daemon.token}`;
  const planted = 'corral_session=%E0%A4%A';
  assert.equal((await raw(daemon, 'GET', '/api/v1/sessions', { authorization: bearer, cookie: planted })).status, 200);
  assert.equal((await raw(daemon, 'GET', '/api/v1/sessions', { cookie: planted })).status, 401);
  assert.equal((await raw(daemon, 'GET', '/login', { cookie: planted })).status, 200, 'the login page still opens');
  const upgrade = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`${daemon.url.replace('http', 'ws')}/ws/sessions/%E0`, { headers: { authorization: bearer } });
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('upgraded to a session that does not exist')));
    ws.once('error', () => undefined);
  });
  assert.equal(upgrade, 404);
});

test("an oversized login form is refused with the login route's own limit in the message", async () => {
  const reply = await raw(daemon, 'POST', '/login', { 'content-type': 'application/x-www-form-urlencoded' }, `token=${'x'.repeat(8192)}`);
  assert.equal(reply.status, 413);
  assert.equal(reply.body.error?.code, 'PAYLOAD_TOO_LARGE');
  assert.match(reply.body.error?.message ?? '', /larger than 4096 bytes/);
});

test('an existing data dir open to other users is made owner-only, and the token and store files are 0600', async () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-open-datadir-')));
  const dataDir = join(base, 'data');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755); // whatever the umask made of it
  const opened = await startDaemon({ base, dataDir });
  try {
    const mode = (file: string): string => (statSync(join(dataDir, file)).mode & 0o777).toString(8);
    assert.equal(mode('.'), '700');
    for (const file of ['token', 'corral.db', 'corral.db-wal']) assert.equal(mode(file), '600', file);
    assert.match(opened.stderr(), /the data dir was open to other users/);
  } finally {
    await opened.stop();
    rmSync(base, { recursive: true, force: true }); // a base we passed is ours to remove
  }
});
