// Webhooks: a receiver on 127.0.0.1 verifies every signature and gets a retry after answering 500; every
// attempt is recorded; URLs outside the allowlist are refused; secrets never come back from a list.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebhooksFace } from '../../../src/server/webhooks/webhooksFace.js';
import { WebhookUrlPolicy } from '../../../src/server/webhooks/webhookUrlPolicy.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../../src/server/webhooks/webhookSignature.js';
import { startInProcess, type InProcessDaemon } from '../../helpers/wsTestClient.js';

const SECRET = 'a-test-secret-of-enough-length';

interface Received {
  eventId: string;
  type: string;
  attempt: number;
  signatureValid: boolean;
  body: { id: string; type: string; sessionId: string };
}

/** A receiver that answers 500 to the first attempt of each event and 200 afterwards. */
class Receiver {
  readonly received: Received[] = [];
  private readonly server: Server;
  private waiters = new Set<() => void>();

  constructor() {
    this.server = createServer((req, res) => void this.handle(req).then((status) => res.writeHead(status).end()));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const timestamp = Number(req.headers[TIMESTAMP_HEADER]);
    const signature = String(req.headers[SIGNATURE_HEADER]);
    const body = JSON.parse(raw) as Received['body'];
    const attempt = Number(req.headers['x-corral-attempt']);
    this.received.push({
      eventId: String(req.headers['x-corral-event-id']),
      type: String(req.headers['x-corral-event']),
      attempt,
      signatureValid: verifySignature(SECRET, timestamp, raw, signature),
      body,
    });
    for (const waiter of [...this.waiters]) waiter();
    return attempt === 1 ? 500 : 200;
  }

  until(predicate: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 60_000);
      this.waiters.add(check);
      check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('webhooks', () => {
  let d: InProcessDaemon;
  let receiver: Receiver;
  let hookUrl: string;
  before(async () => {
    receiver = new Receiver();
    hookUrl = await receiver.listen();
    d = await startInProcess([new WebhooksFace({ retryBaseMs: 50 })]);
  });
  after(async () => {
    await d.stop();
    await receiver.close();
  });

  test('a subscribed receiver gets signed events, a retry after a 500, and every attempt is recorded', async () => {
    const created = await d.request<{ id: string; secret?: string }>('POST', '/api/v1/webhooks', {
      url: hookUrl,
      events: ['session.created', 'session.exited'],
      secret: SECRET,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.secret, undefined, 'a secret the caller chose is not echoed');
    const session = await d.request<{ id: string }>('POST', '/api/v1/sessions', { command: ['true'], kind: 'pipe', cwd: d.root });
    await receiver.until(
      () => receiver.received.filter((r) => r.body.sessionId === session.body.id && r.attempt === 2).length === 2,
      'created and exited, each retried once',
    );
    const mine = receiver.received.filter((r) => r.body.sessionId === session.body.id);
    assert.ok(mine.every((r) => r.signatureValid), 'every signature verifies');
    assert.deepEqual(
      mine.map((r) => [r.type, r.attempt]),
      [
        ['session.created', 1],
        ['session.created', 2],
        ['session.exited', 1],
        ['session.exited', 2],
      ],
      'in order, only the subscribed types',
    );
    assert.ok(mine.every((r) => r.eventId === r.body.id && r.type === r.body.type));

    const deliveries = await d.request<{ deliveries: { eventId: string; attempt: number; status: number | null }[] }>(
      'GET',
      `/api/v1/webhooks/${created.body.id}/deliveries`,
    );
    const createdEventId = mine[0]?.eventId;
    assert.deepEqual(
      deliveries.body.deliveries.filter((x) => x.eventId === createdEventId).map((x) => [x.attempt, x.status]),
      [
        [2, 200],
        [1, 500],
      ],
    );

    const listed = await d.request<{ webhooks: Record<string, unknown>[] }>('GET', '/api/v1/webhooks');
    assert.equal(listed.body.webhooks.length, 1);
    assert.equal('secret' in (listed.body.webhooks[0] ?? {}), false, 'lists never show secrets');
    assert.equal((await d.request('DELETE', `/api/v1/webhooks/${created.body.id}`)).status, 200);
    const gone = await d.request<{ error: { code: string } }>('DELETE', `/api/v1/webhooks/${created.body.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.code, 'WEBHOOK_NOT_FOUND');
  });

  test('a webhook without a secret gets a generated one, shown only in the creation reply', async () => {
    const created = await d.request<{ id: string; secret?: string }>('POST', '/api/v1/webhooks', { url: hookUrl, events: ['*'] });
    assert.equal(created.status, 201);
    assert.ok((created.body.secret ?? '').length >= 32);
    await d.request('DELETE', `/api/v1/webhooks/${created.body.id}`);
  });

  test('URLs outside the allowlist and malformed subscriptions are refused', async () => {
    for (const url of ['http://example.com/hook', 'http://10.0.0.1/hook', 'file:///etc/passwd', 'http://user:pw@127.0.0.1/x']) {
      const refused = await d.request<{ error: { code: string } }>('POST', '/api/v1/webhooks', { url, events: ['*'] });
      assert.equal(refused.status, 400, url);
      assert.equal(refused.body.error.code, 'WEBHOOK_URL_NOT_ALLOWED', url);
    }
    const noEvents = await d.request<{ error: { code: string } }>('POST', '/api/v1/webhooks', { url: hookUrl, events: [] });
    assert.equal(noEvents.body.error.code, 'VALIDATION_FAILED');
    const shortSecret = await d.request<{ error: { code: string } }>('POST', '/api/v1/webhooks', { url: hookUrl, events: ['*'], secret: 'short' });
    assert.equal(shortSecret.body.error.code, 'VALIDATION_FAILED');
    const unauthorized = await fetch(`${d.url}/api/v1/webhooks`);
    assert.equal(unauthorized.status, 401);
    await unauthorized.body?.cancel();
  });

  test('the URL policy allows loopback by default and exactly the configured origins and hosts', () => {
    const strict = new WebhookUrlPolicy();
    assert.equal(strict.check('http://localhost:9/x'), 'http://localhost:9/x');
    assert.equal(strict.check('http://[::1]:9/x'), 'http://[::1]:9/x');
    assert.throws(() => strict.check('https://hooks.example.com/x'), { code: 'WEBHOOK_URL_NOT_ALLOWED' });
    const configured = new WebhookUrlPolicy(['https://hooks.example.com', 'ci.internal']);
    assert.ok(configured.check('https://hooks.example.com/x'));
    assert.throws(() => configured.check('http://hooks.example.com/x'), { code: 'WEBHOOK_URL_NOT_ALLOWED' }, 'scheme is part of an origin');
    assert.throws(() => configured.check('https://hooks.example.com:8443/x'), { code: 'WEBHOOK_URL_NOT_ALLOWED' });
    assert.ok(configured.check('http://ci.internal:8080/x'));
    assert.throws(() => configured.check('https://evil.ci.internal/x'), { code: 'WEBHOOK_URL_NOT_ALLOWED' });
  });
});
