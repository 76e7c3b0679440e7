// `corral token`: prints the API token from the data dir (the file is 0600; only its owner can read it).
// `--url` asks the running daemon for a one-time dashboard login link instead; the token itself never goes in a URL.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorralClientError } from '../../client/CorralClientError.js';
import { defaultDataDir } from '../../config/paths.js';
import { EXIT, UsageError } from '../cliCommand.js';
import { client, clientCommand } from './commandKit.js';

const USAGE = `Usage: corral token [--url] [--data-dir DIR] [--json]

Prints the API token from the data dir (--data-dir, CORRAL_DATA_DIR or the default), for CORRAL_TOKEN.
  --url   a one-time dashboard login link from the running daemon instead (valid for 60 seconds)
  --json  { token } (or { url, path, expiresAt } with --url)`;

export const tokenCommand = clientCommand({
  name: 'token',
  summary: 'print the API token (--url: a one-time dashboard login link)',
  usage: USAGE,
  options: {
    url: { type: 'boolean', default: false },
  },
  run: async ({ values, positionals }, io) => {
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${USAGE}`);
    if (values.url) {
      const link = await client(values, io).loginLink();
      io.stdout.write(values.json ? JSON.stringify(link) + '\n' : link.url + '\n');
      if (!values.json && io.stderr.isTTY) io.stderr.write('(one-time link, valid for 60 seconds)\n');
      return EXIT.ok;
    }
    const dir = values['data-dir'] ?? defaultDataDir(io.env);
    const path = join(dir, 'token');
    // No token file means no daemon has ever run on this data dir: the same answer (exit 5) as any command
    // that finds no daemon, rather than a raw ENOENT.
    if (!existsSync(path)) throw new CorralClientError('NO_DAEMON', `No token file in ${dir} (no daemon has run there). Start one with: corral serve`, null);
    const token = readFileSync(path, 'utf8').trim();
    io.stdout.write(values.json ? JSON.stringify({ token }) + '\n' : token + '\n');
    return EXIT.ok;
  },
});
