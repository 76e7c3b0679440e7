// `corral serve`: runs the daemon in the foreground until SIGTERM/SIGINT or POST /api/v1/shutdown, then stops cleanly
// (exit 0), leaving the sessions under holders running unless asked to end them (`corral shutdown --end-sessions`).

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createSecureContext } from 'node:tls';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../config/paths.js';
import { Daemon, type DaemonFace } from '../daemon/Daemon.js';
import type { TlsFiles } from '../daemon/Daemon.js';
import { createLogger, stderrLog } from '../daemon/logger.js';
import type { LogDestination } from '../daemon/logDestination.js';
import { EXIT } from './cliCommand.js';
import { parseDuration } from './output/duration.js';
import { DEFAULT_LEASE_TTL_SECONDS, DEFAULT_POLL_MS, parseClusterUrl, readTokenFile, type FleetOptions } from '../daemon/Daemon.js';
import { logLineBanner, terminalBanner } from './startBanner.js';
import { ProcessFaults } from '../daemon/processFaults.js';

/** The default port: fixed so the README's URL works; --port 0 picks a free one. */
export const DEFAULT_PORT = 7433;

/** Mirrors ContainmentChoice (src/engine/EngineConfig.ts), which the CLI may not import. */
const CONTAINMENT_CHOICES = ['auto', 'cgroup-v2', 'cgroup-v1', 'sweep'] as const;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

const SERVE_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: String(DEFAULT_PORT) },
  'data-dir': { type: 'string' },
  root: { type: 'string', multiple: true },
  'allow-remote': { type: 'boolean', default: false },
  'allowed-host': { type: 'string', multiple: true },
  'allow-env': { type: 'string', multiple: true },
  'profile-dir': { type: 'string', multiple: true },
  'max-sessions': { type: 'string' },
  'retention-days': { type: 'string' },
  retention: { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  'webhook-allow': { type: 'string', multiple: true },
  'ring-bytes': { type: 'string' },
  'journal-cap-bytes': { type: 'string' },
  'pty-backend': { type: 'string', default: 'native' },
  'session-host': { type: 'string', default: 'holder' },
  containment: { type: 'string', default: 'auto' },
  bwrap: { type: 'string' },
  'token-file': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  cluster: { type: 'string' },
  'node-name': { type: 'string' },
  'advertise-url': { type: 'string' },
  'cluster-token-file': { type: 'string' },
  'node-label': { type: 'string', multiple: true },
  'lease-ttl': { type: 'string' },
  'fleet-poll-ms': { type: 'string' },
  'cluster-ca-file': { type: 'string' },
  'etcd-ca-file': { type: 'string' },
  'etcd-cert-file': { type: 'string' },
  'etcd-key-file': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const SERVE_HELP = `Usage: corral serve [options]

Runs the daemon in the foreground until it is stopped. Sessions run under holders (one small corral-holder
process per session) and outlive the daemon. Three ways to stop it:

  SIGTERM / SIGINT (Ctrl-C)     the daemon exits 0; every session keeps running, and \`corral serve\` started
                                again on the same --data-dir reattaches them (same ids, pids and output offsets).
                                An upgrade is: stop the old daemon, start the new one.
  kill -9 (a crash)             the same for the sessions: the next start reattaches them; nothing is lost.
  corral shutdown --end-sessions  ends every session (polite exit, SIGINT, SIGTERM, SIGKILL, tree sweep), then
                                stops the daemon; it exits 0 when both are done.

With --session-host daemon, sessions are the daemon's own children and every stop ends them (a crash leaves them
to the next start, which ends them as lost).

  --host H              address to listen on (default 127.0.0.1; anything but loopback needs --allow-remote)
  --port N              port (default ${DEFAULT_PORT}; 0 picks a free one, written to <data-dir>/daemon.json)
  --data-dir DIR        store, journals, token and profiles (default ~/.local/share/corral)
  --root DIR            a workspace root sessions may run under (repeatable; default your home directory)
  --allow-remote        allow a non-loopback --host (the token is still required)
  --allowed-host NAME   an extra Host header name to accept, e.g. a DNS name (repeatable)
  --allow-env NAME      let callers set an environment variable Corral refuses by default (repeatable)
  --profile-dir DIR     where agent profiles are read from (repeatable; default <data-dir>/profiles)
  --max-sessions N      live sessions at most; creating one more fails with SESSION_LIMIT
  --retention DURATION  ended sessions (record, history, output) are deleted this long after they end, checked
                        at start and hourly (7d, 12h; default: kept until removed: corral prune, kill --purge)
  --retention-days N    the same in days
  --webhook-allow ORIGIN  a webhook destination beyond loopback (repeatable)
  --ring-bytes N        output kept in memory per session
  --journal-cap-bytes N output kept on disk per session
  --pty-backend NAME    native (default) or node-pty (with --session-host daemon)
  --session-host NAME   holder (default: sessions outlive the daemon) or daemon (they end with it)
  --containment MODE    what holds each session's processes: auto (default: a cgroup per session, v2 or v1,
                        whichever this machine offers, else the sweep alone), cgroup-v2, cgroup-v1 (the daemon
                        refuses to start when that does not work here), or sweep (no cgroups: a session's
                        processes are found by pid tree and environment marker, which a process can escape)
  --bwrap PATH          the bubblewrap binary session sandboxes use (default /usr/bin/bwrap); where it cannot make
                        namespaces the daemon says so at start and refuses sandboxed sessions (SANDBOX_UNAVAILABLE)
  --log-level LEVEL     ${LOG_LEVELS.join(', ')} (default info)
  --tls-cert FILE, --tls-key FILE  serve HTTPS and WSS with this certificate (PEM, chain first) and key, e.g.
                        on a network; clients trust its CA (NODE_EXTRA_CA_CERTS for the corral CLI)
  --token-file FILE     the client token from FILE (mode 0600) instead of <data-dir>/token (a fleet's nodes share it)

A fleet of nodes on etcd (every node answers the whole API; sessions are placed by room and routed to their node):
  --cluster etcd://HOST:PORT[,HOST:PORT…]  join the fleet whose coordination store is this etcd
  --node-name NAME      this node's name in the fleet (unique, stable across restarts)
  --advertise-url URL   where the other nodes reach this one, e.g. http://10.0.0.5:7433
  --cluster-token-file FILE  the token nodes use between themselves (mode 0600; never a client's token)
  --node-label KEY=VALUE  a label placement selectors match (repeatable)
  --lease-ttl SECONDS   how long the fleet waits before it calls a silent node unreachable (default ${DEFAULT_LEASE_TTL_SECONDS})
  --fleet-poll-ms N     how often the node publishes its capacity and reads the fleet's (default ${DEFAULT_POLL_MS})
  --cluster-ca-file FILE  CA certificates (PEM) trusted for the other nodes' https:// advertise URLs
                        (default: Node's built-in CAs); nodes that serve --tls-cert advertise https://
  --etcd-ca-file FILE   talk to etcd over TLS, trusting these CA certificates (PEM)
  --etcd-cert-file FILE, --etcd-key-file FILE  the client certificate etcd asks for (--client-cert-auth)
`;

export async function serveCommand(argv: string[], faces: DaemonFace[]): Promise<number> {
  let values: ReturnType<typeof parseServeArgs>;
  try {
    values = parseServeArgs(argv);
  } catch (error) {
    process.stderr.write(`corral serve: ${(error as Error).message}\n\n${SERVE_HELP}`);
    return EXIT.usage;
  }
  if (values.help) {
    process.stdout.write(SERVE_HELP);
    return EXIT.ok;
  }
  const { port, dataDir, roots, maxSessions, retentionDays, ringBytes, journalCapBytes, ptyBackend } = values;
  const log = stderrLog();
  const logger = createLogger({ level: values['log-level'], destination: log });
  // Process-wide, from here on: a stray exception or rejection is logged and counted, never the daemon's end.
  const faults = new ProcessFaults((fields, message) => logger.error(fields, message));
  faults.install();
  const daemon = await Daemon.start(
    {
      host: values.host,
      port,
      dataDir,
      roots,
      allowRemote: values['allow-remote'],
      allowedHosts: values['allowed-host'] ?? [],
      webhookAllow: values['webhook-allow'] ?? [],
      logger,
      healthSources: [faults],
      ...(values['token-file'] === undefined ? {} : { tokenFile: values['token-file'] }),
      ...(values.cluster === undefined ? {} : { cluster: values.cluster }),
      ...(values.tls === undefined ? {} : { tls: values.tls }),
      engine: {
        allowEnv: values['allow-env'] ?? [],
        profileDirs: values['profile-dir'] ?? [join(dataDir, 'profiles')],
        ...(maxSessions === undefined ? {} : { maxLiveSessions: maxSessions }),
        ...(retentionDays === undefined ? {} : { retentionMs: Math.round(retentionDays * 24 * 3600 * 1000) }),
        ...(ringBytes === undefined ? {} : { ringBytes }),
        ...(journalCapBytes === undefined ? {} : { journalCapBytes }),
        ptyBackend,
        sessionHost: values.sessionHost,
        containment: values.containment,
        ...(values.bwrap === undefined ? {} : { sandbox: { bwrap: values.bwrap } }),
      },
    },
    faces,
  );
  const facts = { url: daemon.url, dataDir, roots };
  if (process.stdout.isTTY) process.stdout.write(terminalBanner(facts));
  // Through the log's queue, not process.stderr: a write to a stderr pipe nobody reads would block the loop.
  else log.write(logLineBanner(facts));
  // SIGTERM/SIGINT: the sessions under holders keep running (a later start reattaches them).
  const stop = (): void => void daemon.stop({ endSessions: false });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await daemon.stopped;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  // The last lines ("shutdown complete") get a moment to reach a slow reader; a full disk or a stuck pipe cannot hold
  // the exit longer than this.
  await log.drain(LOG_DRAIN_MS);
  exitOnceDrained(log);
  return 0;
}

/** How long a stopped daemon waits for its queued log lines to be written. */
const LOG_DRAIN_MS = 1000;

/** How long a stopped daemon lets its last callbacks run before it exits whatever is still open. */
const LINGER_AFTER_STOP_MS = 2000;

/**
 * Everything is closed by now; a handle left open by mistake must not keep a stopped daemon alive (a service
 * manager, a script waiting for the exit, would hang). It says what was still open, so the leak can be found.
 */
function exitOnceDrained(log: LogDestination): void {
  const linger = setTimeout(() => {
    // Through the log's queue too: process.stderr writes a pipe synchronously, and a full one would hold this exit
    // forever — the very hang this timer is here to end.
    log.write(`${JSON.stringify({ level: 40, time: Date.now(), msg: `still open after shutdown, exiting anyway: ${process.getActiveResourcesInfo().join(', ')}` })}\n`);
    void log.drain(LOG_DRAIN_MS).then(() => process.exit(process.exitCode ?? 0));
  }, LINGER_AFTER_STOP_MS);
  linger.unref();
}

/** The command line, checked: anything malformed throws, and the caller prints usage (exit 2) before starting anything. */
function parseServeArgs(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true, allowPositionals: false });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  let retentionDays = values['retention-days'] === undefined ? undefined : Number(values['retention-days']);
  if (retentionDays !== undefined && !(retentionDays > 0)) throw new Error('--retention-days: give a positive number of days');
  if (values.retention !== undefined) {
    if (retentionDays !== undefined) throw new Error('--retention and --retention-days say the same thing: give one');
    const retentionMs = parseDuration(values.retention, '--retention');
    if (!(retentionMs > 0)) throw new Error('--retention: give a positive duration, e.g. 7d');
    retentionDays = retentionMs / (24 * 3600 * 1000);
  }
  if (!LOG_LEVELS.includes(values['log-level'])) throw new Error(`--log-level: one of ${LOG_LEVELS.join(', ')}, not ${values['log-level']}`);
  const ptyBackend = values['pty-backend'];
  if (ptyBackend !== 'native' && ptyBackend !== 'node-pty') throw new Error(`--pty-backend: native or node-pty, not ${ptyBackend}`);
  const sessionHost = values['session-host'];
  if (sessionHost !== 'holder' && sessionHost !== 'daemon') throw new Error(`--session-host: holder or daemon, not ${sessionHost}`);
  const containment = values.containment;
  if (!(CONTAINMENT_CHOICES as readonly string[]).includes(containment)) throw new Error(`--containment: one of ${CONTAINMENT_CHOICES.join(', ')}, not ${containment}`);
  const tls = tlsFiles(values['tls-cert'], values['tls-key']);
  return {
    ...values,
    tls,
    cluster: clusterOptions(values, tls !== undefined),
    containment: containment as (typeof CONTAINMENT_CHOICES)[number],
    port,
    dataDir: values['data-dir'] ?? defaultDataDir(),
    roots: values.root ?? [homedir()],
    maxSessions: positiveInteger('--max-sessions', values['max-sessions']),
    retentionDays,
    ringBytes: positiveInteger('--ring-bytes', values['ring-bytes']),
    journalCapBytes: positiveInteger('--journal-cap-bytes', values['journal-cap-bytes']),
    ptyBackend: ptyBackend as 'native' | 'node-pty',
    sessionHost: sessionHost as 'holder' | 'daemon',
  };
}

/** A count or a byte size: a positive integer, or undefined for the engine default. */
function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag}: not a positive whole number: ${value}`);
  return n;
}

/** `--tls-cert` and `--tls-key`, both or neither, read and checked to be a pair now rather than at the first client. */
function tlsFiles(certFile: string | undefined, keyFile: string | undefined): TlsFiles | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new Error('--tls-cert and --tls-key go together: give both');
  const files = { cert: readPem('--tls-cert', certFile), key: readPem('--tls-key', keyFile) };
  try {
    createSecureContext(files);
  } catch (error) {
    throw new Error(`--tls-cert/--tls-key: not a usable certificate and key pair (${(error as Error).message})`, { cause: error });
  }
  return files;
}

function readPem(flag: string, file: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new Error(`${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  if (!content.includes('-----BEGIN ')) throw new Error(`${flag}: ${file} is not PEM (no -----BEGIN line)`);
  return content;
}

/** `--etcd-ca-file` and the client certificate etcd may ask for: TLS to etcd only with a CA to check it by. */
function etcdTls(values: { [K in keyof typeof SERVE_OPTIONS]?: unknown }): FleetOptions['etcdTls'] {
  const [ca, cert, key] = (['etcd-ca-file', 'etcd-cert-file', 'etcd-key-file'] as const).map((name) => values[name] as string | undefined);
  if ((cert === undefined) !== (key === undefined)) throw new Error('--etcd-cert-file and --etcd-key-file go together: give both');
  if (ca === undefined) {
    if (cert !== undefined) throw new Error('--etcd-cert-file needs --etcd-ca-file (the CA that signed etcd\'s certificate)');
    return undefined;
  }
  return {
    ca: readPem('--etcd-ca-file', ca),
    ...(cert === undefined || key === undefined ? {} : { cert: readPem('--etcd-cert-file', cert), key: readPem('--etcd-key-file', key) }),
  };
}

/** `--cluster` and its companions, checked together: a node needs a name, a URL the others reach, and the cluster token. */
function clusterOptions(values: { [K in keyof typeof SERVE_OPTIONS]?: unknown }, servesTls: boolean): FleetOptions | undefined {
  const text = (name: keyof typeof SERVE_OPTIONS): string | undefined => values[name] as string | undefined;
  const fleetFlags = ['node-name', 'advertise-url', 'cluster-token-file', 'node-label', 'lease-ttl', 'fleet-poll-ms', 'cluster-ca-file', 'etcd-ca-file', 'etcd-cert-file', 'etcd-key-file'] as const;
  if (text('cluster') === undefined) {
    const stray = fleetFlags.find((name) => values[name] !== undefined);
    if (stray !== undefined) throw new Error(`--${stray} needs --cluster`);
    return undefined;
  }
  const etcd = parseClusterUrl(text('cluster') as string);
  const nodeName = text('node-name');
  if (nodeName === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeName)) throw new Error('--cluster needs --node-name NAME (letters, digits, . _ -, at most 63)');
  const advertiseUrl = text('advertise-url');
  if (advertiseUrl === undefined || !/^https?:\/\/[^/]+\/?$/.test(advertiseUrl)) throw new Error('--cluster needs --advertise-url http(s)://HOST:PORT (where the other nodes reach this one)');
  // The other nodes speak to this one as it advertises: a scheme this node does not serve would cut it off.
  if (advertiseUrl.startsWith('https:') !== servesTls) {
    throw new Error(servesTls ? '--advertise-url: this node serves TLS (--tls-cert): advertise https://' : '--advertise-url https:// needs --tls-cert and --tls-key');
  }
  const tokenFile = text('cluster-token-file');
  if (tokenFile === undefined) throw new Error('--cluster needs --cluster-token-file FILE (the token nodes use between themselves)');
  const labels: Record<string, string> = {};
  for (const label of (values['node-label'] as string[] | undefined) ?? []) {
    const match = /^([A-Za-z0-9._/-]{1,63})=([A-Za-z0-9._-]{0,63})$/.exec(label);
    if (match === null) throw new Error(`--node-label: KEY=VALUE, not ${label}`);
    labels[match[1] as string] = match[2] as string;
  }
  const ttl = positiveInteger('--lease-ttl', text('lease-ttl')) ?? DEFAULT_LEASE_TTL_SECONDS;
  if (ttl < 2) throw new Error('--lease-ttl: at least 2 seconds (etcd refuses shorter leases)');
  return {
    etcd,
    nodeName,
    advertiseUrl: advertiseUrl.replace(/\/$/, ''),
    clusterToken: readTokenFile(tokenFile),
    labels,
    leaseTtlSeconds: ttl,
    pollMs: positiveInteger('--fleet-poll-ms', text('fleet-poll-ms')) ?? DEFAULT_POLL_MS,
    ...(text('cluster-ca-file') === undefined ? {} : { peerCa: readPem('--cluster-ca-file', text('cluster-ca-file') as string) }),
    ...(etcdTls(values) === undefined ? {} : { etcdTls: etcdTls(values) }),
  };
}
