// Webhooks on a fleet: a subscription made at any node is the fleet's. It is written to etcd (`webhooks/<id>`, secret
// included: etcd is the fleet's trusted store, reachable only by its nodes, like the session directory) and every node
// mirrors the fleet's subscriptions into its own store, from which its dispatcher delivers its own sessions' events.
// So each event is sent once, by the node where it happened; nothing crosses nodes per event; and a node's loss
// stops only its own sessions' events (the others' still go out). Delivery attempts are recorded where they were
// made; `GET /webhooks/{id}/deliveries` at any node merges every node's (fleetDeliveries, each record with its node).
// Reads come from the local mirror, so deliveries go on through an etcd outage; a subscribe or delete then answers
// ROUTING_UNAVAILABLE. Other nodes see a change at their next sync (one etcd read per poll interval).

import type { Etcd3 } from 'etcd3';
import { PeriodicTask } from '../common/PeriodicTask.js';
import type { NodeInfo } from '../protocol/apiReplies.js';
import { CorralError, isCorralError } from '../protocol/errors.js';
import type { DeliveryRecord, WebhookRecord } from '../protocol/webhooks.js';
import type { WebhookStore } from '../server/webhooks/webhookStore.js';
import { createEtcdClient, withDeadline } from './etcdClient.js';
import { keys, nameOf } from './etcdKeys.js';
import type { FleetOptions } from './fleetOptions.js';
import { API_PREFIX } from '../server/appContext.js';
import type { PeerClient } from './peerClient.js';

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export class FleetWebhookStore implements WebhookStore {
  private readonly etcd: Etcd3;
  private readonly syncTask: PeriodicTask;
  /**
   * Bumped when a write made here starts and when it ends: a sync whose etcd read overlapped one does not apply what
   * it read (it could undo the write in the mirror); the next sync does.
   */
  private writes = 0;
  /** Whether this node's own subscriptions from before it joined are in etcd (adoptOwn), so etcd may decide. */
  private adopted = false;

  private constructor(
    private readonly options: FleetOptions,
    private readonly local: WebhookStore,
    private readonly log: Log,
  ) {
    this.etcd = createEtcdClient(options.etcd);
    this.syncTask = new PeriodicTask(
      { name: 'fleet webhook sync', intervalMs: options.pollMs, log: (level, message, fields) => log(level, message, fields) },
      () => this.sync(),
    );
  }

  /** Joins the fleet's subscriptions (an etcd outage at start leaves the last mirror in use until the next sync). */
  static async open(options: FleetOptions, local: WebhookStore, log: Log): Promise<FleetWebhookStore> {
    const store = new FleetWebhookStore(options, local, log);
    try {
      await store.sync();
    } catch (error) {
      log('warn', 'fleet: could not read the webhook subscriptions from etcd; delivering to the ones last known', { error: (error as Error).message });
    }
    store.syncTask.start();
    return store;
  }

  async putWebhook(record: WebhookRecord): Promise<void> {
    this.writes++;
    try {
      await this.etcdCall(() => this.etcd.put(keys.webhook(record.id)).value(JSON.stringify(record)).exec());
      this.local.putWebhook(record);
    } finally {
      this.writes++;
    }
  }

  async deleteWebhook(id: string): Promise<boolean> {
    this.writes++;
    try {
      await this.etcdCall(() => this.etcd.delete().key(keys.webhook(id)).exec());
      return await this.local.deleteWebhook(id);
    } finally {
      this.writes++;
    }
  }

  getWebhook(id: string): WebhookRecord | undefined {
    return this.local.getWebhook(id);
  }

  listWebhooks(): readonly WebhookRecord[] {
    return this.local.listWebhooks();
  }

  recordDelivery(record: DeliveryRecord): boolean {
    return this.local.recordDelivery(record);
  }

  listDeliveries(webhookId: string, limit: number): DeliveryRecord[] {
    return this.local.listDeliveries(webhookId, limit);
  }

  close(): void {
    this.syncTask.dispose();
    this.etcd.close();
  }

  /** The mirror made equal to etcd: new and changed subscriptions in, deleted ones out (with their delivery log). */
  private async sync(): Promise<void> {
    if (!this.adopted) await this.adoptOwn();
    const before = this.writes;
    const all = await withDeadline(this.etcd.getAll().prefix(keys.webhooksPrefix).strings());
    if (this.writes !== before) return;
    const fleet = new Map<string, WebhookRecord>();
    for (const [key, value] of Object.entries(all)) {
      try {
        fleet.set(nameOf(key, keys.webhooksPrefix), JSON.parse(value) as WebhookRecord);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        this.log('warn', 'fleet: a webhook record in etcd is not JSON; skipped', { key });
      }
    }
    for (const mirrored of this.local.listWebhooks()) {
      if (!fleet.has(mirrored.id)) void this.local.deleteWebhook(mirrored.id);
    }
    for (const record of fleet.values()) {
      const mirrored = this.local.getWebhook(record.id);
      if (mirrored === undefined || !sameWebhook(mirrored, record)) void this.local.putWebhook(record);
    }
  }

  /**
   * A node's first run in a fleet publishes the subscriptions it had on its own, once (a marker says it did); after
   * that etcd decides, so a subscription deleted elsewhere while this node was down is not brought back.
   */
  private async adoptOwn(): Promise<void> {
    const marker = keys.webhooksAdopted(this.options.nodeName);
    if ((await withDeadline(this.etcd.get(marker).string())) === null) {
      for (const record of this.local.listWebhooks()) {
        await withDeadline(this.etcd.put(keys.webhook(record.id)).value(JSON.stringify(record)).exec());
      }
      await withDeadline(this.etcd.put(marker).value(new Date().toISOString()).exec());
    }
    this.adopted = true;
  }

  private async etcdCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(call());
    } catch (error) {
      if (isCorralError(error)) throw error;
      throw new CorralError('ROUTING_UNAVAILABLE', `The fleet's coordination store (etcd) did not answer, so the subscription was not changed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function sameWebhook(a: WebhookRecord, b: WebhookRecord): boolean {
  return a.url === b.url && a.secret === b.secret && a.createdAt === b.createdAt && a.events.join('\n') === b.events.join('\n');
}

/** What `GET /webhooks/{id}/deliveries` answers on a fleet: every node's attempts, newest first, each with its node. */
export interface FleetDeliveries {
  deliveries: (DeliveryRecord & Required<Pick<DeliveryRecord, 'node'>>)[];
  /** Nodes that did not answer: their attempts are missing from the list. */
  unreachable: string[];
}

/**
 * Every node's record of a webhook's deliveries (each node delivers its own sessions' events), asked with the cluster
 * token and merged. WEBHOOK_NOT_FOUND when no node knows the webhook.
 */
export async function fleetDeliveries(peers: PeerClient, nodes: NodeInfo[], id: string, limit: number): Promise<FleetDeliveries> {
  const path = `${API_PREFIX}/webhooks/${encodeURIComponent(id)}/deliveries?limit=${limit}`;
  const unreachable: string[] = [];
  // A node that has not synced a new subscription yet says 404: only when no node knows it is it unknown.
  let known = false;
  const parts = await Promise.all(
    nodes.map(async (node) => {
      if (node.state === 'unreachable') {
        unreachable.push(node.name);
        return [];
      }
      try {
        const answer = await peers.json<{ deliveries: DeliveryRecord[] }>(node, 'GET', path);
        if (answer.status === 404) return [];
        if (answer.status !== 200) throw new CorralError('INTERNAL', `Node ${node.name} answered ${answer.status} to a webhook's deliveries.`, { details: answer.body });
        known = true;
        return answer.body.deliveries.map((delivery) => ({ ...delivery, node: node.name }));
      } catch (error) {
        if (!isCorralError(error) || error.code !== 'NODE_UNREACHABLE') throw error;
        unreachable.push(node.name);
        return [];
      }
    }),
  );
  if (!known && unreachable.length === 0) throw new CorralError('WEBHOOK_NOT_FOUND', `No webhook "${id}".`, { details: { id } });
  const deliveries = parts.flat().sort((a, b) => b.at.localeCompare(a.at));
  return { deliveries: deliveries.slice(0, limit), unreachable };
}
