// Which node holds which session: `/corral/v1/sessions/<id>` → { node, session } in etcd, written when a session is
// created (before its creator hears of it, so any node can route the next call) and deleted when it is purged. What
// a node learned is cached: a session never moves, so an entry never goes stale, only away (purge, forget).

import type { Etcd3 } from 'etcd3';
import type { SessionInfo } from '../protocol/sessionTypes.js';
import { keys } from './etcdKeys.js';
import { parseJson } from './etcdMembership.js';

interface DirectoryEntry {
  node: string;
  /** The session as created: what the fleet shows of it once its node is forgotten and nothing newer is known. */
  session: SessionInfo;
}

export type Location = { kind: 'node'; node: string } | { kind: 'lost'; session: SessionInfo } | { kind: 'unknown' };

/** Entries cached at most (a session never moves, so eviction only costs an etcd read). */
const CACHE_LIMIT = 10_000;

export class SessionDirectory {
  private readonly cache = new Map<string, string>();
  /** Task id → node (a task never moves either: every later session of it is sent to the same node). */
  private readonly taskNodes = new Map<string, string>();

  constructor(private readonly etcd: Etcd3) {}

  async record(session: SessionInfo, node: string): Promise<void> {
    const entry: DirectoryEntry = { node, session };
    await this.etcd.put(keys.session(session.id)).value(JSON.stringify(entry));
    this.remember(session.id, node);
    if (session.taskId !== undefined && session.taskId !== null) {
      await this.etcd.put(keys.task(session.taskId)).value(node);
      this.taskNodes.set(session.taskId, node);
    }
  }

  /** The node a task's sessions run on, or null for a task no node has started. Throws when etcd cannot be reached. */
  async taskNode(taskId: string): Promise<string | null> {
    const cached = this.taskNodes.get(taskId);
    if (cached !== undefined) return cached;
    const node = await this.etcd.get(keys.task(taskId)).string();
    if (node !== null) {
      if (this.taskNodes.size >= CACHE_LIMIT) this.taskNodes.delete(this.taskNodes.keys().next().value as string);
      this.taskNodes.set(taskId, node);
    }
    return node;
  }

  /** What the caller learned from a node's own answer (a create forwarded there). */
  remember(id: string, node: string): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, node);
  }

  uncache(id: string): void {
    this.cache.delete(id);
  }

  /** Where a session lives; throws when etcd cannot be reached (the caller answers ROUTING_UNAVAILABLE). */
  async locate(id: string): Promise<Location> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return { kind: 'node', node: cached };
    const entry = parseJson<DirectoryEntry>((await this.etcd.get(keys.session(id)).string()) ?? '');
    if (entry !== undefined) {
      this.remember(id, entry.node);
      return { kind: 'node', node: entry.node };
    }
    const lost = parseJson<SessionInfo>((await this.etcd.get(keys.lost(id)).string()) ?? '');
    return lost === undefined ? { kind: 'unknown' } : { kind: 'lost', session: lost };
  }

  async remove(id: string): Promise<void> {
    this.cache.delete(id);
    await this.etcd.delete().key(keys.session(id));
    await this.etcd.delete().key(keys.lost(id));
  }

  /** The sessions recorded on `node`, as created. */
  async sessionsOf(node: string): Promise<SessionInfo[]> {
    const all = await this.etcd.getAll().prefix(keys.sessionsPrefix).strings();
    return Object.values(all)
      .map((value) => parseJson<DirectoryEntry>(value))
      .filter((entry): entry is DirectoryEntry => entry !== undefined && entry.node === node)
      .map((entry) => entry.session);
  }

  /** Every session of forgotten nodes (ended as lost). */
  async lost(): Promise<SessionInfo[]> {
    const all = await this.etcd.getAll().prefix(keys.lostPrefix).strings();
    return Object.values(all)
      .map((value) => parseJson<SessionInfo>(value))
      .filter((session): session is SessionInfo => session !== undefined);
  }

  /** A forgotten node's sessions end as lost: moved from the directory to the lost records, in one transaction. */
  async markLost(sessions: SessionInfo[]): Promise<void> {
    for (const session of sessions) {
      this.cache.delete(session.id);
      await this.etcd
        .if(keys.session(session.id), 'Version', '>', 0)
        .then(this.etcd.put(keys.lost(session.id)).value(JSON.stringify(session)), this.etcd.delete().key(keys.session(session.id)))
        .commit();
    }
  }
}
