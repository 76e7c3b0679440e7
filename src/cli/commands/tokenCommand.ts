// `corral token`: prints the API token from the data dir (the file is 0600; only its owner can read it).
// `--url` asks the running daemon for a one-time dashboard login link instead; the token itself never goes in a URL.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../config/paths.js';
import { clientFor, EXIT, reportError, type CliCommand } from '../cliCommand.js';

interface LoginLink {
  url: string;
  path: string;
  expiresAt: string;
}

export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'print the API token (--url: a one-time dashboard login link)',
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        url: { type: 'boolean', default: false },
      },
      strict: true,
    });
    if (values.url) {
      try {
        const link = await clientFor(values['data-dir'], io.env).post<LoginLink>('/api/v1/auth/login-links', {});
        io.stdout.write(values.json ? JSON.stringify(link) + '\n' : link.url + '\n');
        if (!values.json && io.stderr.isTTY) io.stderr.write('(one-time link, valid for 60 seconds)\n');
        return EXIT.ok;
      } catch (error) {
        return reportError(error, io, values.json);
      }
    }
    const dir = values['data-dir'] ?? defaultDataDir(io.env);
    const token = readFileSync(join(dir, 'token'), 'utf8').trim();
    io.stdout.write(values.json ? JSON.stringify({ token }) + '\n' : token + '\n');
    return EXIT.ok;
  },
};
