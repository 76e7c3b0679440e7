// A fleet on this machine: a real etcd (Debian's /usr/bin/etcd) in a temp dir on free 127.0.0.1 ports, and real
// daemons (`corral serve --cluster`) with their own data dirs, fixed ports (a restarted node comes back at the URL it
// advertised) and shared client and cluster token files. Every process is ended by pid in `stop()`, which then finds
// every holder and session process of every node's data dir (dataDirProcesses.ts), kills it and fails: a leak.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon, type DaemonHandle } from './daemonHarness.js';
import { dataDirProcesses, describe, killAll, type DataDirProcess } from './dataDirProcesses.js';
import type { TestCertificates } from './testCertificates.js';

export const ETCD_BINARY = '/usr/bin/etcd';
/** etcd's start on a loaded 2-core machine stays well under this. */
const ETCD_START_TIMEOUT_MS = 30_000;
/** A node ends its sessions and exits well within this; past it the harness kills it. */
const STOP_TIMEOUT_MS = 45_000;
/** A holder whose session ended exits within this, even on a loaded 2-core machine. */
const SETTLE_TIMEOUT_MS = 10_000;

/** A port nobody listens on right now (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface EtcdHandle {
  endpoint: string;
  /** Stops etcd (SIGKILL, like a crash) and keeps its data dir. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data dir. */
  start(): Promise<void>;
  pid(): number | null;
  cleanup(): Promise<void>;
}

/** `tls`: etcd serves its clients over TLS with this certificate and asks them for one signed by the same CA. */
export async function startEtcd(base: string, options: { tls?: TestCertificates } = {}): Promise<EtcdHandle> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  const dataDir = join(base, 'etcd');
  const endpoint = `127.0.0.1:${clientPort}`;
  const tls = options.tls;
  // Over TLS with client certificates, /health is asked on a plain metrics port instead.
  const healthUrl = tls === undefined ? `http://${endpoint}/health` : `http://127.0.0.1:${await freePort()}/health`;
  const clientUrl = `${tls === undefined ? 'http' : 'https'}://${endpoint}`;
  let child: ChildProcess | null = null;
  let log = '';
  const args = [
    '--name', 'fleet-test',
    '--data-dir', dataDir,
    '--listen-client-urls', clientUrl,
    '--advertise-client-urls', clientUrl,
    '--listen-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
    '--initial-cluster', `fleet-test=http://127.0.0.1:${peerPort}`,
    ...(tls === undefined
      ? ['--listen-metrics-urls', '']
      : ['--listen-metrics-urls', new URL(healthUrl).origin, '--cert-file', tls.certFile, '--key-file', tls.keyFile, '--trusted-ca-file', tls.caFile, '--client-cert-auth']),
  ];
  const handle: EtcdHandle = {
    endpoint,
    async start() {
      log = '';
      child = spawn(ETCD_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        log = (log + chunk).slice(-20_000);
      });
      const deadline = performance.now() + ETCD_START_TIMEOUT_MS;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`etcd exited with ${child.exitCode}: ${log}`);
        try {
          const answer = await fetch(healthUrl);
          if (answer.ok && ((await answer.json()) as { health?: string }).health === 'true') return;
        } catch {
          // Not listening yet.
        }
        if (performance.now() > deadline) throw new Error(`etcd did not start: ${log}`);
        await sleep(100);
      }
    },
    async stop() {
      const running = child;
      if (running === null || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
    pid: () => child?.pid ?? null,
    async cleanup() {
      await handle.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

export interface FleetNode {
  name: string;
  port: number;
  url: string;
  dataDir: string;
  base: string;
  args: string[];
  daemon: DaemonHandle;
}

export interface Fleet {
  etcd: EtcdHandle;
  base: string;
  tokenFile: string;
  clusterTokenFile: string;
  token: string;
  clusterToken: string;
  nodes: Map<string, FleetNode>;
  node(name: string): FleetNode;
  /** Starts (or restarts, on the same data dir and port) a node. */
  startNode(name: string, extraArgs?: string[]): Promise<FleetNode>;
  /**
   * Ends every session, stops every node (a node left down: a plain daemon on its data dir ends its sessions), then
   * etcd; removes the temp dirs. Throws when any holder or session process outlived that (it is killed first).
   */
  stop(): Promise<void>;
}

/** `tls`: etcd and every node serve TLS with these certificates, and check each other against their CA. */
export async function startFleet(
  names: string[],
  options: { leaseTtlSeconds?: number; pollMs?: number; extraArgs?: Record<string, string[]>; tls?: (base: string) => TestCertificates } = {},
): Promise<Fleet> {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'corral-fleet-')));
  const tls = options.tls?.(base);
  const etcd = await startEtcd(base, tls === undefined ? {} : { tls });
  const token = randomBytes(32).toString('base64url');
  const clusterToken = randomBytes(32).toString('base64url');
  const tokenFile = join(base, 'client-token');
  const clusterTokenFile = join(base, 'cluster-token');
  writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
  writeFileSync(clusterTokenFile, clusterToken + '\n', { mode: 0o600 });
  const nodes = new Map<string, FleetNode>();
  const fleet: Fleet = {
    etcd,
    base,
    tokenFile,
    clusterTokenFile,
    token,
    clusterToken,
    nodes,
    node(name) {
      const node = nodes.get(name);
      if (node === undefined) throw new Error(`no node ${name}`);
      return node;
    },
    async startNode(name, extraArgs) {
      const known = nodes.get(name);
      const port = known?.port ?? (await freePort());
      const nodeBase = known?.base ?? join(base, name);
      mkdirSync(nodeBase, { recursive: true });
      const args = known?.args ?? [
        '--port', String(port),
        '--cluster', `etcd://${etcd.endpoint}`,
        '--node-name', name,
        '--advertise-url', `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
        ...(tls === undefined
          ? []
          : ['--tls-cert', tls.certFile, '--tls-key', tls.keyFile, '--cluster-ca-file', tls.caFile, '--etcd-ca-file', tls.caFile, '--etcd-cert-file', tls.certFile, '--etcd-key-file', tls.keyFile]),
        '--token-file', tokenFile,
        '--cluster-token-file', clusterTokenFile,
        '--lease-ttl', String(options.leaseTtlSeconds ?? 3),
        '--fleet-poll-ms', String(options.pollMs ?? 500),
        ...(options.extraArgs?.[name] ?? []),
        ...(extraArgs ?? []),
      ];
      const daemon = await startDaemon({ base: nodeBase, dataDir: join(nodeBase, 'data'), args, tokenFile, ...(tls === undefined ? {} : { ca: tls.ca }) });
      const node: FleetNode = { name, port, url: daemon.url, dataDir: daemon.dataDir, base: nodeBase, args, daemon };
      nodes.set(name, node);
      return node;
    },
    async stop() {
      for (const node of nodes.values()) {
        try {
          const child = node.daemon.child;
          if (child.exitCode === null && child.signalCode === null) {
            // A node that cannot stop (a bug under test) is killed rather than left behind.
            const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            await node.daemon.stop('end-sessions').finally(() => clearTimeout(killer));
          }
        } catch (error) {
          process.stderr.write(`fleet: stopping ${node.name}: ${(error as Error).message}\n`);
          node.daemon.child.kill('SIGKILL');
        }
      }
      const leaks: string[] = [];
      for (const node of nodes.values()) {
        // A node left down (a failed test) still has sessions under holders: a plain daemon on its data dir ends them.
        if (dataDirProcesses(node.dataDir).length > 0) {
          try {
            const cleaner = await startDaemon({ base: node.base, dataDir: node.dataDir, args: ['--token-file', tokenFile], tokenFile });
            await cleaner.stop('end-sessions');
          } catch (error) {
            process.stderr.write(`fleet: ending the sessions left on ${node.name}: ${(error as Error).message}\n`);
          }
        }
        // What is still there now was not ended by its daemon: a leak. It is killed all the same, then reported.
        const left = await settled(node.dataDir);
        if (left.length > 0) {
          killAll(left);
          leaks.push(`${node.name}: ${describe(left)}`);
          await settled(node.dataDir);
        }
      }
      await etcd.cleanup();
      rmSync(base, { recursive: true, force: true });
      if (leaks.length > 0) throw new Error(`fleet: processes left running after the nodes stopped (killed now): ${leaks.join('; ')}`);
    },
  };
  try {
    for (const name of names) await fleet.startNode(name);
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet;
}

/**
 * The processes of a data dir once they stopped changing: holders exit a moment after their daemon let them go,
 * so what is still alive after SETTLE_TIMEOUT_MS stays.
 */
async function settled(dataDir: string): Promise<DataDirProcess[]> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const left = dataDirProcesses(dataDir);
    if (left.length === 0 || performance.now() > deadline) return left;
    await sleep(100);
  }
}

/** Polls `check` until it returns a value (not undefined), or throws with the last reason after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${(last as Error).message}`}`);
    await sleep(100);
  }
}
