// How sessions read on screen: state badges, ages, exits. Pure functions of the shared session types.
// Must return text or elements built with textContent only (names, cwds and reasons are caller data).

import type { ExitInfo, SessionInfo, SessionState } from '../protocol/sessionTypes.js';
import { h } from './dom.js';

export function stateBadge(state: SessionState): HTMLSpanElement {
  return h('span', { class: `badge state-${state}`, attrs: { 'data-state': state } }, state.replace('_', ' '));
}

/**
 * The node a session runs on, in a fleet only (a single daemon's sessions carry no `node`: nothing is shown); one
 * whose node is not answering says so (`reachable: false`: its state is the last one known).
 */
export function nodeBadge(session: { node?: string; reachable?: boolean }): HTMLSpanElement | null {
  if (session.node === undefined) return null;
  const unreachable = session.reachable === false;
  return h('span', {
    class: unreachable ? 'badge node-badge node-unreachable' : 'badge node-badge',
    attrs: { 'data-node': session.node, 'data-reachable': String(!unreachable), title: unreachable ? `node ${session.node} is not answering: the state shown is the last one known` : `runs on node ${session.node}` },
  }, unreachable ? `${session.node} · unreachable` : session.node);
}

export function age(fromIso: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(fromIso)) / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d`;
}

export function exitText(exit: ExitInfo | null): string {
  if (exit === null) return '';
  const how = exit.signal !== null ? exit.signal : exit.code !== null ? `code ${exit.code}` : '';
  return [exit.reason, how, exit.forced ? 'forced' : ''].filter((part) => part !== '').join(' · ');
}

export function sessionTitle(session: SessionInfo): string {
  return session.name ?? session.id;
}

export function shortTime(iso: string): string {
  const date = new Date(iso);
  return date.toLocaleTimeString(undefined, { hour12: false });
}

export function duration(ms: number | null): string {
  if (ms === null) return '…';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;
}

/** Splits a command line into argv the way a user expects (quotes and backslashes), without any shell. */
export function splitArgv(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line.charAt(i);
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) current += line.charAt(++i);
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inArg = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      current += line.charAt(++i);
      inArg = true;
    } else if (/\s/.test(ch)) {
      if (inArg) args.push(current);
      current = '';
      inArg = false;
    } else {
      current += ch;
      inArg = true;
    }
  }
  if (inArg) args.push(current);
  return args;
}

/**
 * The command as a person names it: the program's file name (`bash`, `claude`), not its path and not the
 * rc-file arguments shell integration adds.
 */
export function shortCommand(session: SessionInfo): string {
  const program = session.command[0] ?? session.profile;
  return program.slice(program.lastIndexOf('/') + 1) || session.profile;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** CPU time and memory of the session's process tree, as last sampled. */
export function usageText(session: SessionInfo): string {
  const usage = session.usage;
  if (usage === null) return '—';
  const cpu = usage.cpuMs < 60_000 ? `${(usage.cpuMs / 1000).toFixed(1)}s` : `${Math.floor(usage.cpuMs / 60_000)}m`;
  return `${cpu} CPU · ${bytes(usage.rssBytes)}`;
}
