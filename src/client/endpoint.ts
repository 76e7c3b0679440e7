// Where the daemon is, found the way PRODUCT §5 says: CORRAL_URL + CORRAL_TOKEN, else daemon.json and the token
// file in the data dir (an explicit dataDir wins as a whole: its URL and its token). Reads files; never connects.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_INFO_FILE, defaultDataDir, type DaemonInfo } from '../config/paths.js';
import { CorralClientError } from './CorralClientError.js';

export interface Endpoint {
  /** e.g. `http://127.0.0.1:7433`, without a trailing slash. */
  url: string;
  token: string;
}

export interface DiscoveryOptions {
  /** A data dir to read daemon.json and the token from; wins over CORRAL_URL. */
  dataDir?: string;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export function resolveEndpoint(options: DiscoveryOptions = {}): Endpoint {
  const env = options.env ?? process.env;
  if (options.dataDir === undefined && env.CORRAL_URL !== undefined && env.CORRAL_URL !== '') {
    const token = env.CORRAL_TOKEN ?? readTokenFile(defaultDataDir(env));
    if (token === undefined) throw new CorralClientError('NO_DAEMON', 'CORRAL_URL is set but CORRAL_TOKEN is not.', null);
    return { url: trimUrl(env.CORRAL_URL), token };
  }
  const dataDir = options.dataDir ?? defaultDataDir(env);
  const infoPath = join(dataDir, DAEMON_INFO_FILE);
  if (!existsSync(infoPath)) {
    throw new CorralClientError('NO_DAEMON', `No running daemon found (${infoPath} is missing). Start one with: corral serve`, null);
  }
  const info = JSON.parse(readFileSync(infoPath, 'utf8')) as DaemonInfo;
  // The token comes from where the URL came from: a CORRAL_TOKEN meant for a CORRAL_URL (overridden by
  // dataDir, or left over without one) belongs to another daemon, whose token this one refuses.
  const token = readTokenFile(dataDir);
  if (token === undefined) throw new CorralClientError('NO_DAEMON', `No token file in ${dataDir}.`, null);
  return { url: info.url, token };
}

export function trimUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

function readTokenFile(dataDir: string): string | undefined {
  const path = join(dataDir, 'token');
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
}
