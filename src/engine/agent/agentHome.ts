// How an agent CLI is set up from its profile data: the files an isolated HOME starts with, and how the CLI is told
// to run Corral's hook command (a settings file flag, a settings file in HOME, or a notify program argument).
// It writes only inside the session's own private directory; it never touches the user's real HOME.

import { appendFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Profile } from '../profiles/profileSchema.js';
import { hookSettings } from './hookCommand.js';

type AgentProfile = NonNullable<Profile['agent']>;
type HookSpec = NonNullable<AgentProfile['hooks']>;

/** A value placed inside a JSON or TOML string literal: JSON escaping is valid in both. */
function escaped(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** Writes the profile's `homeFiles` into `home` (mode 0600), placeholders filled (profileSchema homeFileSchema). */
export function writeHomeFiles(home: string, agent: AgentProfile, options: { cwd: string; preAnswer: boolean; authToken: string | undefined }): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  // CLIs key trusted folders by the resolved path (/tmp may be a symlink).
  const cwd = escaped(realpathSync(options.cwd));
  const token = options.authToken ?? '';
  for (const file of agent.homeFiles) {
    if (file.preAnswerOnly && !options.preAnswer) continue;
    const path = join(home, file.path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const content = file.content
      .replaceAll('${cwd}', cwd)
      .replace(/\$\{authToken\.slice\(-(\d+)\)\}/g, (_, count: string) => (token === '' ? '' : escaped(token.slice(-Number(count)))));
    if (file.append) appendFileSync(path, content, { mode: 0o600 });
    else writeFileSync(path, content, { mode: 0o600 });
  }
}

/** What a launch gains from installing hooks: extra arguments (the files are written already). */
export interface HookInstall {
  args: string[];
}

/**
 * Installs `command` as the CLI's hook for every event of `hooks`. Returns null when this format cannot be used
 * for the session (a HOME settings file without an isolated HOME: Corral never edits the user's own HOME).
 */
export function installHooks(hooks: HookSpec, command: string, dirs: { privateDir: string; home: string | null }): HookInstall | null {
  switch (hooks.format) {
    case 'claude-settings': {
      const settings = join(dirs.privateDir, 'settings.json');
      writeFileSync(settings, hookSettings(hooks.events, command), { mode: 0o600 });
      return { args: [hooks.settingsFlag ?? '--settings', settings] };
    }
    case 'home-settings': {
      if (dirs.home === null || hooks.settingsFile === undefined) return null;
      const path = join(dirs.home, hooks.settingsFile);
      const current: Record<string, unknown> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
      const entries: Record<string, unknown> = {};
      for (const event of hooks.events) entries[event] = [{ matcher: '*', hooks: [{ type: 'command', command }] }];
      const enabled = { ...(typeof current.hooksConfig === 'object' && current.hooksConfig !== null ? current.hooksConfig : {}), enabled: true };
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, `${JSON.stringify({ ...current, hooksConfig: enabled, hooks: entries }, null, 2)}\n`, { mode: 0o600 });
      return { args: [] };
    }
    case 'notify-arg': {
      // The program gets the JSON payload as its one argument; the hook command reads stdin.
      const program = ['sh', '-c', `printf '%s' "$1" | ${command}`, 'corral-notify'];
      const flag = hooks.settingsFlag ?? '-c';
      return { args: [flag, `notify=[${program.map((part) => JSON.stringify(part)).join(',')}]`, ...trustedFlagHooks(hooks, command, flag, dirs.home)] };
    }
  }
}

/**
 * `flagHooks`: each event as `<flag> hooks.<Event>=[{hooks=[{type="command",command=…}]}]`, trusted beforehand in
 * the isolated HOME so the CLI runs it without its "Hooks need review" dialog. None without an isolated HOME.
 */
function trustedFlagHooks(hooks: HookSpec, command: string, flag: string, home: string | null): string[] {
  const spec = hooks.flagHooks;
  if (spec === undefined || home === null) return [];
  const args: string[] = [];
  let trust = '';
  for (const event of spec.events) {
    args.push(flag, `hooks.${event}=[{hooks=[{type="command",command=${JSON.stringify(command)}}]}]`);
    const key = spec.trustKey.replaceAll('${event}', snakeCase(event));
    trust += `\n[hooks.state.${JSON.stringify(key)}]\ntrusted_hash = "${codexHookHash(snakeCase(event), command)}"\n`;
  }
  const path = join(home, spec.trustFile);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  appendFileSync(path, trust, { mode: 0o600 });
  return args;
}

function snakeCase(event: string): string {
  return event.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * The hash Codex records when a user trusts a command hook (`sha256:` + hex of the compact JSON of the hook's
 * normalized identity, keys sorted; matcherless events such as UserPromptSubmit carry no matcher; the timeout
 * defaults to 600). Checked against the hash Codex 0.169.0 and 0.171.0 wrote after "Trust all and continue"
 * (test/engine/agent/codexHookTrust.test.ts); a change shows as the review dialog (waiting_input) at startup.
 */
export function codexHookHash(eventSnake: string, command: string): string {
  const identity = { event_name: eventSnake, hooks: [{ async: false, command, timeout: 600, type: 'command' }] };
  return `sha256:${createHash('sha256').update(JSON.stringify(identity), 'utf8').digest('hex')}`;
}
