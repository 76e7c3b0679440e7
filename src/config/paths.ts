// Where Corral keeps its data, and how clients find a running daemon (PRODUCT §5).

import { homedir } from 'node:os';
import { join } from 'node:path';

export const DAEMON_INFO_FILE = 'daemon.json';

export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CORRAL_DATA_DIR !== undefined && env.CORRAL_DATA_DIR !== '') return env.CORRAL_DATA_DIR;
  const xdg = env.XDG_DATA_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.local', 'share'), 'corral');
}

export interface DaemonInfo {
  url: string;
  pid: number;
}
