// The fleet's keys in etcd, in one place. Versioned (`v1`) so a later layout can live beside this one.

const ROOT = '/corral/v1/';

export const keys = {
  /** Under the node's lease: its URL and capacity. Gone when the lease expires (crash, cut-off) or on stop. */
  nodesPrefix: `${ROOT}nodes/`,
  node: (name: string): string => `${ROOT}nodes/${name}`,
  /** Durable: a node that ever joined, so one whose lease expired is still listed (as unreachable). */
  membersPrefix: `${ROOT}members/`,
  member: (name: string): string => `${ROOT}members/${name}`,
  /** Durable: present while an operator drains the node (`corral node drain`). */
  drainPrefix: `${ROOT}drain/`,
  drain: (name: string): string => `${ROOT}drain/${name}`,
  /** Durable: session id → { node, session } (the session as created), written on create, deleted on purge. */
  sessionsPrefix: `${ROOT}sessions/`,
  session: (id: string): string => `${ROOT}sessions/${id}`,
  /** Durable: task id → the node its sessions run on (a task's sessions share a node, so its idempotency holds). */
  task: (taskId: string): string => `${ROOT}tasks/${taskId}`,
  /**
   * Durable: SHA-256 (hex) of a session's scoped token → { node, sessionId, taskId }, written with the session's
   * directory entry and deleted when it ends, so any node's door can send the token's requests to its node.
   */
  tokensPrefix: `${ROOT}tokens/`,
  token: (hash: string): string => `${ROOT}tokens/${hash}`,
  /** Durable: sessions of a forgotten node, ended as lost. */
  lostPrefix: `${ROOT}lost/`,
  lost: (id: string): string => `${ROOT}lost/${id}`,
  /** Durable: webhook id → the subscription (secret included; etcd is the fleet's trusted store). */
  webhooksPrefix: `${ROOT}webhooks/`,
  webhook: (id: string): string => `${ROOT}webhooks/${id}`,
  /** Durable: present once the node published the subscriptions it had before it joined (fleetWebhooks.ts). */
  webhooksAdopted: (name: string): string => `${ROOT}webhooks-adopted/${name}`,
} as const;

/** The last path segment of a key under `prefix`. */
export function nameOf(key: string, prefix: string): string {
  return key.slice(prefix.length);
}
