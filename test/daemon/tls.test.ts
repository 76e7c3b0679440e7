// `corral serve --tls-cert --tls-key`: the daemon serves HTTPS and WSS on its one port, with the same door (token,
// Host, Origin — now https:// origins), a URL that says https in daemon.json, a dashboard cookie marked Secure, and
// the corral CLI reaching it through CORRAL_URL when Node trusts the CA (NODE_EXTRA_CA_CERTS). Bad flags are a usage
// error before anything starts. Certificates from a throwaway CA made with openssl (test/helpers/testCertificates.ts).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { request as plainRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { corralCommand, REPO_ROOT, startDaemon, type DaemonHandle } from '../helpers/daemonHarness.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/testCertificates.js';
import { TestSocket } from '../helpers/wsTestClient.js';
import type { SessionInfo } from '../../src/protocol/sessionTypes.js';

let dir: string;
let certs: TestCertificates;
let daemon: DaemonHandle;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'corral-tls-'));
  certs = makeTestCertificates(dir);
  daemon = await startDaemon({ args: ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile] });
});

after(async () => {
  await daemon.stop();
  daemon.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One HTTPS request checked against `ca` (undefined: Node's built-in CAs only, which do not know the test CA). */
function https(method: string, path: string, options: { body?: unknown; headers?: Record<string, string>; ca?: Buffer | null } = {}): Promise<Reply> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      new URL(path, daemon.url),
      {
        method,
        ...(options.ca === null ? {} : { ca: options.ca ?? certs.ca }),
        headers: { authorization: `Bearer ${daemon.token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text === '' ? undefined : text.startsWith('{') ? JSON.parse(text) : text });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

test('the daemon serves HTTPS under its own certificate: daemon.json says https, the token is still required', async () => {
  const info = JSON.parse(readFileSync(join(daemon.dataDir, 'daemon.json'), 'utf8')) as { url: string };
  assert.match(info.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(daemon.url, info.url);
  const listed = await https('GET', '/api/v1/sessions');
  assert.equal(listed.status, 200, JSON.stringify(listed.body));
  const noToken = await https('GET', '/api/v1/sessions', { headers: { authorization: '' } });
  assert.equal(noToken.status, 401);
  // Checked against Node's own CAs the certificate is not trusted: it really is the test CA's certificate.
  await assert.rejects(https('GET', '/api/v1/sessions', { ca: null }), (error: NodeJS.ErrnoException) => /CERT|certificate/i.test(`${error.code} ${error.message}`));
  // Plain HTTP on the TLS port gets no API answer.
  const plain = await new Promise<string>((resolve) => {
    const outgoing = plainRequest(daemon.url.replace('https:', 'http:') + '/api/v1/sessions', { headers: { authorization: `Bearer ${daemon.token}` } }, (response) => resolve(`status ${response.statusCode}`));
    outgoing.on('error', (error) => resolve(`error ${error.message}`));
    outgoing.end();
  });
  assert.doesNotMatch(plain, /status 200/);
});

test('the door takes https:// Origins of its port and refuses the http:// one', async () => {
  const port = new URL(daemon.url).port;
  const good = await https('GET', '/api/v1/sessions', { headers: { origin: `https://127.0.0.1:${port}` } });
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const bad = await https('GET', '/api/v1/sessions', { headers: { origin: `http://127.0.0.1:${port}` } });
  assert.equal(bad.status, 403, JSON.stringify(bad.body));
});

test('a session over WSS: input and output, as over ws://', async () => {
  const created = await https('POST', '/api/v1/sessions', { body: { command: ['/bin/cat'] } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = (created.body as SessionInfo).id;
  const socket = await TestSocket.open(`${daemon.url.replace('https:', 'wss:')}/ws/sessions/${id}?since=0`, { authorization: `Bearer ${daemon.token}` }, { ca: certs.ca });
  try {
    socket.send({ type: 'input', data: 'over tls\n' });
    await socket.until(() => socket.output.toString('utf8').includes('over tls'), 'the echo over WSS');
  } finally {
    await socket.close();
    await https('DELETE', `/api/v1/sessions/${id}?force=true`);
  }
});

test('a dashboard login over HTTPS sets a Secure cookie, and its link says https', async () => {
  const link = await https('POST', '/api/v1/auth/login-links');
  assert.equal(link.status, 201, JSON.stringify(link.body));
  const { url, path } = link.body as { url: string; path: string };
  assert.match(url, /^https:\/\//);
  const login = await https('GET', path, { headers: { authorization: '' } });
  const cookie = String(login.headers['set-cookie'] ?? '');
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /; Secure/);
});

test('the corral CLI reaches an HTTPS daemon through CORRAL_URL when Node trusts its CA', () => {
  const { file, args } = corralCommand(false);
  const run = (extraEnv: Record<string, string>) =>
    spawnSync(file, [...args, 'ls', '--json'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, CORRAL_URL: daemon.url, CORRAL_TOKEN: daemon.token, ...extraEnv },
    });
  const trusted = run({ NODE_EXTRA_CA_CERTS: certs.caFile });
  assert.equal(trusted.status, 0, trusted.stderr);
  assert.doesNotThrow(() => JSON.parse(trusted.stdout), trusted.stdout);
  const untrusted = run({});
  assert.notEqual(untrusted.status, 0, 'an unknown CA must not be trusted');
});

test('bad TLS flags are a usage error (exit 2) before anything starts', () => {
  const { file, args } = corralCommand(false);
  const serve = (...flags: string[]) =>
    spawnSync(file, [...args, 'serve', '--port', '0', '--data-dir', join(dir, 'never'), ...flags], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  const onlyCert = serve('--tls-cert', certs.certFile);
  assert.equal(onlyCert.status, 2, onlyCert.stderr);
  assert.match(onlyCert.stderr, /--tls-cert and --tls-key go together/);
  const swapped = serve('--tls-cert', certs.keyFile, '--tls-key', certs.certFile);
  assert.equal(swapped.status, 2, swapped.stderr);
  assert.match(swapped.stderr, /not a usable certificate and key pair/);
  const missing = serve('--tls-cert', join(dir, 'absent.pem'), '--tls-key', certs.keyFile);
  assert.equal(missing.status, 2, missing.stderr);
  assert.match(missing.stderr, /cannot read .*absent\.pem \(ENOENT\)/);
  const httpsWithoutTls = serve('--cluster', 'etcd://127.0.0.1:2379', '--node-name', 'a', '--advertise-url', 'https://127.0.0.1:1', '--cluster-token-file', certs.keyFile);
  assert.equal(httpsWithoutTls.status, 2, httpsWithoutTls.stderr);
  assert.match(httpsWithoutTls.stderr, /--advertise-url https:\/\/ needs --tls-cert/);
});
