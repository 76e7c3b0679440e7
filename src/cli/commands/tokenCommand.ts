// `corral token`: prints the API token from the data dir (the file is 0600; only its owner can read it).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../../config/paths.js';
import { EXIT, type CliCommand } from '../cliCommand.js';

export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'print the API token (--url: a one-time dashboard login link)',
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
    });
    const dir = values['data-dir'] ?? defaultDataDir(io.env);
    const token = readFileSync(join(dir, 'token'), 'utf8').trim();
    io.stdout.write(values.json ? JSON.stringify({ token }) + '\n' : token + '\n');
    return EXIT.ok;
  },
};
