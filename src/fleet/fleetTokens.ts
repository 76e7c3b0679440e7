// Sessions' scoped tokens (CORRAL_TOKEN) across the fleet: the node that issued one records its hash in etcd
// (`tokens/<sha256>` → { node, sessionId, taskId }) with the session and deletes it when the session ends, so any
// node's front door can tell whose a token is and send its requests there (FleetFace). Only hashes are ever stored or
// sent. Which node holds a token never changes, so what a node looked up is cached; whether the token still works
// is never cached: the owning node decides that on every request (it resolves the hash itself, see auth.ts), so a
// token of an ended session stops working at every door at once. A string no node issued is looked up each time (a
// token made a moment ago must work at once); wrong tokens are counted and slowed at the door as any other.

import type { Etcd3 } from 'etcd3';
import { CorralError } from '../protocol/errors.js';
import type { FleetToken, FleetTokenDoor } from '../server/auth.js';
import { hashToken, SCOPED_TOKEN_SHAPE, type TokenScope } from '../engine/engineTypes.js';
import { withDeadline } from './etcdClient.js';
import { keys } from './etcdKeys.js';
import { parseJson } from './etcdMembership.js';

interface TokenEntry {
  node: string;
  sessionId: string;
  taskId: string | null;
}

/** Tokens cached at most (an evicted one costs one etcd read at its next request). */
const CACHE_LIMIT = 10_000;

export class FleetTokens implements FleetTokenDoor {
  /** Token hash → where it was issued, for tokens of other nodes this door was shown. */
  private readonly cache = new Map<string, FleetToken>();
  /** This node's sessions with a token → its hash (the engine forgets it when the session ends, before we hear). */
  private readonly own = new Map<string, string>();

  constructor(
    private readonly etcd: Etcd3,
    private readonly self: string,
    /** Whether etcd is reachable now (the membership's view): without it a lookup fails at once, not after a deadline. */
    private readonly routing: () => boolean,
    /** Whether a node is a member of the fleet (a forgotten node's tokens went with it). */
    private readonly isMember: (node: string) => boolean,
  ) {}

  /** Records the token of this node's session `sessionId` (its hash, from the engine). */
  async record(hash: string, scope: TokenScope): Promise<void> {
    this.own.set(scope.sessionId, hash);
    const entry: TokenEntry = { node: this.self, sessionId: scope.sessionId, taskId: scope.taskId };
    await this.etcd.put(keys.token(hash)).value(JSON.stringify(entry));
  }

  /** The session ended: its token leaves etcd (it stopped working at its node already). */
  async ended(sessionId: string): Promise<void> {
    const hash = this.own.get(sessionId);
    if (hash === undefined) return;
    this.own.delete(sessionId);
    await this.etcd.delete().key(keys.token(hash));
  }

  /**
   * At the start: this node's tokens whose session ended while no daemon ran leave etcd (`holds`: whether a session
   * holds a token now, asked per key so one created meanwhile keeps its own).
   */
  async sweep(holds: (sessionId: string) => boolean): Promise<void> {
    const all = await this.etcd.getAll().prefix(keys.tokensPrefix).strings();
    for (const [key, value] of Object.entries(all)) {
      const entry = parseJson<TokenEntry>(value);
      if (entry?.node === this.self && !holds(entry.sessionId)) await this.etcd.delete().key(key);
    }
  }

  /** A forgotten node's tokens leave etcd with its sessions. */
  async forgetNode(node: string): Promise<void> {
    const all = await this.etcd.getAll().prefix(keys.tokensPrefix).strings();
    for (const [key, value] of Object.entries(all)) {
      if (parseJson<TokenEntry>(value)?.node === node) await this.etcd.delete().key(key);
    }
    for (const [hash, token] of this.cache) if (token.node === node) this.cache.delete(hash);
  }

  known(token: string): FleetToken | undefined {
    if (!SCOPED_TOKEN_SHAPE.test(token)) return undefined;
    const found = this.cache.get(hashToken(token));
    return found !== undefined && this.isMember(found.node) ? found : undefined;
  }

  async resolve(token: string): Promise<void> {
    if (!SCOPED_TOKEN_SHAPE.test(token)) return;
    const hash = hashToken(token);
    const cached = this.cache.get(hash);
    if (cached !== undefined && this.isMember(cached.node)) return;
    this.cache.delete(hash);
    if (!this.routing()) {
      throw new CorralError('ROUTING_UNAVAILABLE', 'The fleet\'s coordination store (etcd) cannot be reached, so this node cannot tell whose token this is; retry shortly, or call the node that runs its session.');
    }
    let value: string | null;
    try {
      value = await withDeadline(this.etcd.get(keys.token(hash)).string());
    } catch (error) {
      throw new CorralError('ROUTING_UNAVAILABLE', `The fleet's coordination store (etcd) did not answer: ${(error as Error).message}`, { cause: error });
    }
    const entry = parseJson<TokenEntry>(value ?? '');
    // This node's own tokens are the engine's to judge (one here that the engine does not know has ended).
    if (entry === undefined || entry.node === this.self || !this.isMember(entry.node)) return;
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(hash, { node: entry.node, hash, scope: { sessionId: entry.sessionId, taskId: entry.taskId } });
  }
}
