// `corral serve`: runs the daemon in the foreground until SIGTERM/SIGINT, then shuts down cleanly (exit 0).

import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../config/paths.js';
import { Daemon, type DaemonFace } from '../server/daemon.js';
import { createLogger } from '../server/logger.js';

/** The default port: fixed so the README's URL works; --port 0 picks a free one. */
export const DEFAULT_PORT = 7433;

export async function serveCommand(argv: string[], faces: DaemonFace[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
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
      'log-level': { type: 'string', default: 'info' },
      'webhook-allow': { type: 'string', multiple: true },
      'ring-bytes': { type: 'string' },
      'journal-cap-bytes': { type: 'string' },
      'pty-backend': { type: 'string', default: 'native' },
    },
    strict: true,
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${values.port}`);
  const dataDir = values['data-dir'] ?? defaultDataDir();
  const roots = values.root ?? [homedir()];
  const maxSessions = values['max-sessions'] === undefined ? undefined : Number(values['max-sessions']);
  const retentionDays = values['retention-days'] === undefined ? undefined : Number(values['retention-days']);
  if (retentionDays !== undefined && !(retentionDays > 0)) throw new Error('--retention-days: give a positive number of days');
  const ringBytes = byteCount('--ring-bytes', values['ring-bytes']);
  const journalCapBytes = byteCount('--journal-cap-bytes', values['journal-cap-bytes']);
  const ptyBackend = values['pty-backend'];
  if (ptyBackend !== 'native' && ptyBackend !== 'node-pty') throw new Error(`--pty-backend: native or node-pty, not ${ptyBackend}`);
  const logger = createLogger({ level: values['log-level'] });
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
      engine: {
        allowEnv: values['allow-env'] ?? [],
        profileDirs: values['profile-dir'] ?? [join(dataDir, 'profiles')],
        ...(maxSessions === undefined ? {} : { maxLiveSessions: maxSessions }),
        ...(retentionDays === undefined ? {} : { retentionMs: retentionDays * 24 * 3600 * 1000 }),
        ...(ringBytes === undefined ? {} : { ringBytes }),
        ...(journalCapBytes === undefined ? {} : { journalCapBytes }),
        ptyBackend,
      },
    },
    faces,
  );
  if (process.stdout.isTTY) {
    process.stdout.write(
      `Corral is listening on ${daemon.url}\n` +
        `  dashboard: ${daemon.url}/   (log in with: corral token --url)\n` +
        `  token:     corral token   (file ${join(dataDir, 'token')}, mode 0600)\n` +
        `  data:      ${dataDir}\n` +
        `  roots:     ${roots.join(', ')}\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      void daemon.stop().then(resolve);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  return 0;
}

/** Output buffer sizes (bytes): a positive integer, or undefined for the engine default. */
function byteCount(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const bytes = Number(value);
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new Error(`${flag}: not a positive byte count: ${value}`);
  return bytes;
}
