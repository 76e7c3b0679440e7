// This node in the fleet: registers under a lease (URL and capacity), keeps the lease alive, republishes its
// capacity each tick, and reads everyone's records into the view placement and routing use. Withdraws on stop.
// One tick loop does both, so a tick that reaches etcd proves routing works, and one that cannot says it does not.

import { freemem, loadavg } from 'node:os';
import type { Etcd3, Lease } from 'etcd3';
import type { NodeInfo } from '../protocol/apiReplies.js';
import { withDeadline } from './etcdClient.js';
import { keys, nameOf } from './etcdKeys.js';
import type { FleetOptions } from './fleetOptions.js';

/** What a node publishes under its lease. */
interface NodeRecord {
  name: string;
  url: string;
  sessions: number;
  maxSessions: number;
  load: number;
  freeMemoryBytes: number;
  labels: Record<string, string>;
  updatedAt: string;
}

/** What a node leaves when it first joins (no lease): enough to list it once its lease expired. */
interface MemberRecord {
  name: string;
  url: string;
  labels: Record<string, string>;
}

export interface Capacity {
  sessions: number;
  maxSessions: number;
}

type Log = (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;

export class EtcdMembership {
  private lease: Lease | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private view: NodeInfo[] = [];
  private routingUp = false;
  private stopped = false;
  /** Whether this run of the node wrote its membership (once; a forget removes it, a restart writes it again). */
  private registered = false;
  /** Placements made here since a node last published: counted in, so a burst of creates spreads. */
  private readonly placed = new Map<string, { answeredAt: number }[]>();

  constructor(
    private readonly etcd: Etcd3,
    private readonly options: FleetOptions,
    private readonly capacity: () => Capacity,
    private readonly log: Log,
  ) {}

  /** Joins at once (a failure is retried by the loop; the node serves its own sessions meanwhile). */
  async start(): Promise<void> {
    await this.tick();
    const every = Math.max(100, Math.min(this.options.pollMs, (this.options.leaseTtlSeconds * 1000) / 3));
    this.timer = setInterval(() => void this.tick(), every);
    this.timer.unref();
  }

  /** Whether the last tick reached etcd: routing (another node's session, a create, the fleet list) works. */
  get routing(): boolean {
    return this.routingUp;
  }

  get self(): string {
    return this.options.nodeName;
  }

  /** Every node that ever joined (until forgotten), with its state as of the last tick. */
  nodes(): NodeInfo[] {
    return this.view.map((node) => {
      const extra = this.placed.get(node.name)?.length ?? 0;
      return extra === 0 || node.sessions === null ? node : { ...node, sessions: node.sessions + extra };
    });
  }

  node(name: string): NodeInfo | undefined {
    return this.nodes().find((node) => node.name === name);
  }

  /**
   * A session is being placed on `name`: counted until that node publishes a record written after the create was
   * answered (`done()`), which is the first record sure to count it.
   */
  notePlacement(name: string): { done(): void } {
    const list = this.placed.get(name) ?? [];
    const entry = { answeredAt: Number.POSITIVE_INFINITY };
    list.push(entry);
    this.placed.set(name, list);
    return {
      done: () => {
        entry.answeredAt = Date.now();
      },
    };
  }

  /** One tick now (after a drain or forget, so the answer reflects it). */
  refresh(): Promise<void> {
    return this.tick();
  }

  private tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.ticking ??= this.publishAndRead().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  private async publishAndRead(): Promise<void> {
    try {
      await withDeadline(this.keepRegistered());
      const [records, members, drains] = await withDeadline(
        Promise.all([
          this.etcd.getAll().prefix(keys.nodesPrefix).strings(),
          this.etcd.getAll().prefix(keys.membersPrefix).strings(),
          this.etcd.getAll().prefix(keys.drainPrefix).keys(),
        ]),
      );
      this.view = this.buildView(records, members, new Set(drains.map((key) => nameOf(key, keys.drainPrefix))));
      if (!this.routingUp) this.log('info', 'fleet: etcd reachable, routing available', { node: this.options.nodeName });
      this.routingUp = true;
    } catch (error) {
      if (this.stopped) return;
      if (this.routingUp) this.log('warn', 'fleet: etcd unreachable; serving this node\'s own sessions only', { error: (error as Error).message });
      this.routingUp = false;
      // The lease may have expired meanwhile: the next tick that reaches etcd takes a new one (the old one, if alive,
      // expires on its own and takes nothing with it, since the record is put again under the new lease).
      this.lease = null;
    }
  }

  private async keepRegistered(): Promise<void> {
    if (this.lease !== null) {
      const alive = await this.lease.keepaliveOnce();
      if (Number(alive.TTL) <= 0) this.lease = null;
    }
    if (this.lease === null) {
      const lease = this.etcd.lease(this.options.leaseTtlSeconds, { autoKeepAlive: false });
      await lease.grant();
      this.lease = lease;
    }
    const { sessions, maxSessions } = this.capacity();
    const record: NodeRecord = {
      name: this.options.nodeName,
      url: this.options.advertiseUrl,
      sessions,
      maxSessions,
      load: loadavg()[0] ?? 0,
      freeMemoryBytes: freemem(),
      labels: this.options.labels,
      updatedAt: new Date().toISOString(),
    };
    await this.lease.put(keys.node(this.options.nodeName)).value(JSON.stringify(record));
    if (!this.registered) {
      // After the record: a node listed as a member without one is one whose lease expired (unreachable).
      const member: MemberRecord = { name: this.options.nodeName, url: this.options.advertiseUrl, labels: this.options.labels };
      await this.etcd.put(keys.member(this.options.nodeName)).value(JSON.stringify(member));
      this.registered = true;
      this.log('info', 'fleet: registered', { node: this.options.nodeName, url: this.options.advertiseUrl, ttlSeconds: this.options.leaseTtlSeconds });
    }
  }

  private buildView(records: Record<string, string>, members: Record<string, string>, drains: Set<string>): NodeInfo[] {
    const live = new Map<string, NodeRecord>();
    for (const [key, value] of Object.entries(records)) {
      const record = parseJson<NodeRecord>(value);
      if (record !== undefined) live.set(nameOf(key, keys.nodesPrefix), record);
    }
    const previous = new Map(this.view.map((node) => [node.name, node]));
    const names = new Set([...live.keys(), ...Object.keys(members).map((key) => nameOf(key, keys.membersPrefix))]);
    const view: NodeInfo[] = [];
    for (const name of [...names].sort()) {
      const record = live.get(name);
      const draining = drains.has(name);
      if (record !== undefined) {
        // Placements made before this record was written are in its count now.
        const since = Date.parse(record.updatedAt);
        const pending = (this.placed.get(name) ?? []).filter((entry) => entry.answeredAt >= since);
        if (pending.length === 0) this.placed.delete(name);
        else this.placed.set(name, pending);
        view.push({
          name,
          url: record.url,
          state: draining ? 'draining' : 'up',
          sessions: record.sessions,
          maxSessions: record.maxSessions,
          load: record.load,
          freeMemoryBytes: record.freeMemoryBytes,
          labels: record.labels,
          draining,
          updatedAt: record.updatedAt,
        });
        continue;
      }
      const member = parseJson<MemberRecord>(members[keys.member(name)] ?? '');
      const last = previous.get(name);
      this.placed.delete(name);
      view.push({
        name,
        url: member?.url ?? last?.url ?? '',
        state: 'unreachable',
        sessions: last?.sessions ?? null,
        maxSessions: last?.maxSessions ?? null,
        load: last?.load ?? null,
        freeMemoryBytes: last?.freeMemoryBytes ?? null,
        labels: member?.labels ?? last?.labels ?? {},
        draining,
        updatedAt: last?.updatedAt ?? null,
      });
    }
    return view;
  }

  /**
   * Stops publishing. `withdraw` (no session left here): the record goes at once (the lease is revoked). Otherwise the
   * node's sessions keep running under their holders, so the record is left to its lease: a daemon restarted within
   * the TTL never looks lost, and one that stays down shows as unreachable once the lease expires. The membership
   * stays either way (a restart rejoins).
   */
  async stop(withdraw: boolean): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.stopped = true;
    try {
      await withDeadline(Promise.resolve(this.ticking));
      if (withdraw && this.lease !== null) await withDeadline(this.lease.revoke());
    } catch (error) {
      this.log('warn', 'fleet: could not withdraw from etcd; the lease expires on its own', { error: (error as Error).message });
    }
  }
}

export function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    return undefined;
  }
}
