// Prepares an isolated HOME for the real `claude` CLI and the env that keeps it offline (fake API only).
// It never reads or touches the real user's HOME.
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClaudeHomeOptions {
  /** Directory used as HOME; `.claude.json` is written here. */
  readonly dir: string;
  /** Working directories the CLI will be started in (trusted when `trustProjects`). */
  readonly projectDirs?: string[];
  /** The API key the CLI will see; needed for `approveApiKey`. */
  readonly apiKey?: string;
  /** Pre-accept the "Quick safety check" trust dialog for `projectDirs`. */
  readonly trustProjects: boolean;
  /** Pre-approve the "Do you want to use this API key?" question for `apiKey`. */
  readonly approveApiKey: boolean;
  /** Leave `hasCompletedOnboarding` out, so the first-run wizard / login screens show. Default false. */
  readonly skipOnboarding?: boolean;
}

/** The CLI remembers an approved key by its last 20 characters. */
export function apiKeyFingerprint(apiKey: string): string {
  return apiKey.slice(-20);
}

/** Writes `<dir>/.claude.json` with the answers the CLI would otherwise ask for on screen. */
export function prepareClaudeHome(opts: ClaudeHomeOptions): void {
  mkdirSync(opts.dir, { recursive: true });
  const config: Record<string, unknown> = {
    // Without it the first-run wizard calls Anthropic directly (ignoring ANTHROPIC_BASE_URL) and stalls.
    hasCompletedOnboarding: opts.skipOnboarding !== true,
    hasSeenAutoDefaultNotice: true,
    numStartups: 1,
  };
  if (opts.apiKey !== undefined) {
    config.customApiKeyResponses = {
      approved: opts.approveApiKey ? [apiKeyFingerprint(opts.apiKey)] : [],
      rejected: [],
    };
  }
  if (opts.trustProjects && opts.projectDirs !== undefined) {
    const projects: Record<string, unknown> = {};
    for (const dir of opts.projectDirs) {
      // The CLI keys projects by the resolved path (e.g. /tmp may be a symlink).
      projects[realpathSync(dir)] = { hasTrustDialogAccepted: true, allowedTools: [] };
    }
    config.projects = projects;
  }
  writeFileSync(join(opts.dir, '.claude.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

export interface ClaudeEnvOptions {
  readonly home: string;
  readonly baseUrl: string;
  readonly apiKey: string;
}

/** The whole environment for a `claude` child: nothing inherited except PATH. */
export function claudeEnv(opts: ClaudeEnvOptions): Record<string, string> {
  return {
    HOME: opts.home,
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_API_KEY: opts.apiKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    // The default retries 401/500 up to 10 times with backoff, which looks busy for minutes.
    CLAUDE_CODE_MAX_RETRIES: '0',
  };
}
