// What `corral serve` tells a person at start: where it listens, the dashboard, the exact command that prints the
// token for this data dir, where the data and roots are. On a terminal as a few lines on stdout; otherwise (systemd,
// a pipe) as one human line on stderr next to the JSON log, so the facts are there whoever reads it.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultDataDir } from '../config/paths.js';

export interface BannerFacts {
  url: string;
  dataDir: string;
  roots: readonly string[];
}

/** A word as a POSIX shell reads it back: bare when it is plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The command that prints this daemon's token from any shell: `corral token` finds only the default data dir (a
 * CORRAL_DATA_DIR the daemon was started with is not in every shell), so any other names it.
 */
export function tokenCommand(dataDir: string, args: string[] = []): string {
  const plainDefault = defaultDataDir({ HOME: homedir(), XDG_DATA_HOME: process.env.XDG_DATA_HOME });
  const dirArgs = dataDir === plainDefault ? [] : ['--data-dir', shellWord(dataDir)];
  return ['corral', 'token', ...args, ...dirArgs].join(' ');
}

export function terminalBanner(facts: BannerFacts): string {
  return (
    `Corral is listening on ${facts.url}\n` +
    `  dashboard: ${facts.url}/   (log in with: ${tokenCommand(facts.dataDir, ['--url'])})\n` +
    `  token:     ${tokenCommand(facts.dataDir)}   (file ${join(facts.dataDir, 'token')}, mode 0600)\n` +
    `  data:      ${facts.dataDir}\n` +
    `  roots:     ${facts.roots.join(', ')}\n`
  );
}

export function logLineBanner(facts: BannerFacts): string {
  return (
    `corral: listening on ${facts.url}; dashboard ${facts.url}/; token: ${tokenCommand(facts.dataDir)}; ` +
    `data ${facts.dataDir}; roots ${facts.roots.join(', ')}\n`
  );
}
