// What `corral serve --cluster` gives the fleet layer: where etcd is, who this node is, how others reach it.

/** A node's lease lives this long without a keep-alive: how soon a crashed node is known to be gone (issue 20: ≤ 10 s). */
export const DEFAULT_LEASE_TTL_SECONDS = 10;
/** How often a node publishes its capacity and reads the fleet's membership (keep-alives go at least 3× per TTL). */
export const DEFAULT_POLL_MS = 2_000;

export interface FleetOptions {
  /** etcd endpoints as host:port (from `--cluster etcd://HOST:PORT[,HOST:PORT…]`). */
  etcd: string[];
  nodeName: string;
  /** The base URL other nodes reach this one at (`--advertise-url`). */
  advertiseUrl: string;
  /** The node-to-node token (`--cluster-token-file`); never a client's token. */
  clusterToken: string;
  labels: Record<string, string>;
  leaseTtlSeconds: number;
  pollMs: number;
  /** CA certificates (PEM) trusted for other nodes' https:// URLs (`--cluster-ca-file`); default Node's built-in CAs. */
  peerCa?: Buffer;
  /** TLS to etcd (`--etcd-ca-file`), with a client certificate when etcd asks for one (`--etcd-cert-file`, `--etcd-key-file`). */
  etcdTls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
}

/** `etcd://a:2379,b:2379` (or bare host:port lists) to endpoint strings; throws on anything else. */
export function parseClusterUrl(value: string): string[] {
  const rest = value.startsWith('etcd://') ? value.slice('etcd://'.length) : value;
  const endpoints = rest.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (endpoints.length === 0) throw new Error(`--cluster: no endpoint in ${value}; give etcd://HOST:PORT[,HOST:PORT…]`);
  for (const endpoint of endpoints) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(endpoint)) throw new Error(`--cluster: not HOST:PORT: ${endpoint}`);
  }
  return endpoints;
}
