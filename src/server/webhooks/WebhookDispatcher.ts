// Delivers EventHub events to webhook subscriptions as signed POSTs, in order per webhook, with retries and
// exponential backoff, recording every attempt in the store. It never follows redirects (they could leave the
// allowed URLs) and never holds more than a bounded queue per webhook.

import { setTimeout as sleep } from 'node:timers/promises';
import { DisposableStore, toDisposable, type Disposable } from '../../common/lifecycle.js';
import type { WebhookStore } from './webhookStore.js';
import { isCorralError } from '../../protocol/errors.js';
import type { WebhookRecord } from '../../protocol/webhooks.js';
import type { HubEvent } from '../../protocol/events.js';
import type { EventHub } from '../events/EventHub.js';
import type { WebhookUrlPolicy } from './webhookUrlPolicy.js';
import { ATTEMPT_HEADER, EVENT_HEADER, EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signPayload } from './webhookSignature.js';

/** 6 attempts with doubling delays from 1 s: a receiver gets ~31 s (plus timeouts) to come back. */
const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_RETRY_BASE_MS = 1000;
/** No single wait longer than a minute, whatever the attempt count is configured to. */
const MAX_RETRY_DELAY_MS = 60_000;
/** A receiver gets 10 s to answer one POST; a hung one must not hold its queue forever. */
const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;
/** Events waiting per webhook: a dead receiver costs at most ~1000 small bodies; the oldest are dropped past it. */
const MAX_QUEUED_PER_WEBHOOK = 1000;
/** Error text kept per delivery record. */
const MAX_ERROR_CHARS = 500;

export interface DispatcherOptions {
  maxAttempts?: number;
  retryBaseMs?: number;
  attemptTimeoutMs?: number;
  userAgent?: string;
  /** A fleet node's name, sent in every event (`node`) as the fleet's event stream does. */
  node?: string;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

interface Queue {
  events: HubEvent[];
  running: boolean;
}

/** Matches an event type against a subscription: exact names, `*`, or a prefix like `session.*`. */
function subscribes(webhook: WebhookRecord, type: string): boolean {
  return webhook.events.some((want) => want === '*' || want === type || (want.endsWith('.*') && type.startsWith(want.slice(0, -1))));
}

export class WebhookDispatcher implements Disposable {
  private readonly queues = new Map<string, Queue>();
  private readonly disposables = new DisposableStore();
  private readonly abort = new AbortController();
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly log: NonNullable<DispatcherOptions['log']>;

  constructor(
    hub: EventHub,
    private readonly store: WebhookStore,
    private readonly policy: WebhookUrlPolicy,
    private readonly options: DispatcherOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.retryBaseMs = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.log = options.log ?? (() => undefined);
    // What this run's start raised before the dispatcher existed goes out first, then everything as it happens.
    for (const event of hub.eventsOfThisRun()) this.enqueue(event);
    this.disposables.add(hub.onEvent((event) => this.enqueue(event)));
    this.disposables.add(toDisposable(() => this.abort.abort(new Error('daemon shutting down'))));
  }

  private enqueue(event: HubEvent): void {
    if (this.abort.signal.aborted) return;
    for (const webhook of this.store.listWebhooks()) {
      if (!subscribes(webhook, event.type)) continue;
      let queue = this.queues.get(webhook.id);
      if (queue === undefined) {
        queue = { events: [], running: false };
        this.queues.set(webhook.id, queue);
      }
      queue.events.push(event);
      if (queue.events.length > MAX_QUEUED_PER_WEBHOOK) {
        const dropped = queue.events.shift();
        if (dropped !== undefined) this.record(webhook.id, dropped.id, 0, null, 'dropped: the webhook queue was full');
      }
      if (!queue.running) void this.drain(webhook.id, queue);
    }
  }

  /** One event at a time per webhook, so a receiver sees its events in order. */
  private async drain(webhookId: string, queue: Queue): Promise<void> {
    queue.running = true;
    try {
      for (let event = queue.events.shift(); event !== undefined; event = queue.events.shift()) {
        if (this.abort.signal.aborted) return;
        await this.deliver(webhookId, event);
      }
    } finally {
      queue.running = false;
      if (queue.events.length === 0) this.queues.delete(webhookId);
    }
  }

  private async deliver(webhookId: string, event: HubEvent): Promise<void> {
    const body = JSON.stringify(this.options.node === undefined ? event : { ...event, node: this.options.node });
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      // Re-read each time: the webhook may have been deleted (stop) or its URL may no longer be allowed.
      const webhook = this.store.getWebhook(webhookId);
      if (webhook === undefined) return;
      let url: string;
      try {
        url = this.policy.check(webhook.url);
      } catch (error) {
        // The daemon was restarted with a narrower --webhook-allow: record why nothing was sent.
        this.record(webhookId, event.id, attempt, null, (error as Error).message);
        return;
      }
      const outcome = await this.post(url, webhook.secret, event, body, attempt);
      // Shutdown aborted the attempt; the store is about to close, and the attempt did not really happen.
      if (this.abort.signal.aborted) return;
      this.record(webhookId, event.id, attempt, outcome.status, outcome.error);
      if (!outcome.retry || attempt === this.maxAttempts || this.abort.signal.aborted) {
        if (outcome.retry) this.log('warn', 'webhook delivery gave up', { webhook: webhookId, event: event.id, attempts: attempt });
        return;
      }
      const delay = Math.min(MAX_RETRY_DELAY_MS, this.retryBaseMs * 2 ** (attempt - 1));
      try {
        await sleep(delay, undefined, { signal: this.abort.signal });
      } catch (error) {
        // Aborted by shutdown: undelivered events are not kept across restarts (documented).
        if (this.abort.signal.aborted) return;
        throw error;
      }
    }
  }

  private async post(
    url: string,
    secret: string,
    event: HubEvent,
    body: string,
    attempt: number,
  ): Promise<{ status: number | null; error: string | null; retry: boolean }> {
    const timestamp = Math.floor(Date.now() / 1000);
    try {
      const response = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': this.options.userAgent ?? 'corral-webhook',
          [EVENT_HEADER]: event.type,
          [EVENT_ID_HEADER]: event.id,
          [ATTEMPT_HEADER]: String(attempt),
          [TIMESTAMP_HEADER]: String(timestamp),
          [SIGNATURE_HEADER]: signPayload(secret, timestamp, body),
        },
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.attemptTimeoutMs)]),
      });
      // The body is not needed; reading it releases the connection.
      await response.arrayBuffer();
      const status = response.status;
      if (status >= 200 && status < 300) return { status, error: null, retry: false };
      // 5xx, 408 and 429 are the receiver's temporary trouble; other 4xx (and redirects) are its answer.
      const retry = status >= 500 || status === 408 || status === 429;
      return { status, error: `HTTP ${status}`, retry };
    } catch (error) {
      // fetch rejects on network errors, timeouts and aborts; all of them are worth another attempt.
      const cause = (error as Error & { cause?: Error }).cause;
      const message = `${(error as Error).message}${cause === undefined ? '' : `: ${cause.message}`}`;
      return { status: null, error: message.slice(0, MAX_ERROR_CHARS), retry: true };
    }
  }

  private record(webhookId: string, eventId: string, attempt: number, status: number | null, error: string | null): void {
    try {
      this.store.recordDelivery({ webhookId, eventId, attempt, status, error, at: new Date().toISOString() });
      this.unrecorded = 0;
    } catch (storeError) {
      // A full disk or a locked store (issue 15): the delivery itself happened; only its log entry is lost. It must
      // not throw into event delivery (an engine callback) nor reject a drain nobody awaits. Counted, logged per streak.
      if (!isCorralError(storeError) || (storeError.code !== 'STORAGE_FULL' && storeError.code !== 'STORE_BUSY')) throw storeError;
      if (this.unrecorded++ === 0) {
        this.log('warn', 'webhook delivery attempts are not being recorded: the store refuses writes', { code: storeError.code });
      }
    }
  }

  /** Delivery attempts the store refused to record in a row (a full disk), for the log's once-per-streak warning. */
  private unrecorded = 0;

  dispose(): void {
    this.disposables.dispose();
    this.queues.clear();
  }
}
