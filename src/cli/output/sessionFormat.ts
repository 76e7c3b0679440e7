// Human descriptions of sessions for the CLI: one table row per session, the `show` block, how a session ended.
// Every string that came from a session (name, task, argv, cwd) is neutralized before it reaches the terminal.

import type { ExitInfo, SessionInfo } from '../../protocol/sessionTypes.js';
import { containmentText, sandboxBindsText, sandboxText } from '../../protocol/isolationText.js';
import { formatDuration } from './duration.js';
import { neutralize } from './neutralize.js';
import { styleState, type Styler } from './style.js';

/** `exited 0`, `SIGTERM (killed, forced)`, `lost`: what a script's author wants to know about an ending. */
export function describeExit(exit: ExitInfo | null): string {
  if (exit === null) return '';
  const how = exit.signal !== null ? exit.signal : exit.code !== null ? `exit ${exit.code}` : '';
  const why = exit.reason === 'exited' ? '' : exit.reason + (exit.forced ? ', forced' : '');
  if (how === '') return why;
  return why === '' ? how : `${how} (${why})`;
}

/** A sentence for `kill`: "s_… ended: SIGTERM (killed, forced)". */
export function describeEnding(info: SessionInfo): string {
  const exit = describeExit(info.exit);
  return `${info.id} ${info.exit === null ? `is ${info.state}` : `ended: ${exit}`}`;
}

function age(info: SessionInfo, now: number): string {
  return formatDuration(now - Date.parse(info.createdAt));
}

export const SESSION_TABLE_HEADER = ['ID', 'NAME', 'PROFILE', 'STATE', 'TASK', 'PID', 'AGE', 'EXIT'] as const;

export function sessionRow(info: SessionInfo, style: Styler, now: number): string[] {
  return [
    info.id,
    neutralize(info.name ?? '-'),
    neutralize(info.profile),
    styleState(info.state, style),
    neutralize(info.taskId ?? '-'),
    info.pid === null ? '-' : String(info.pid),
    age(info, now),
    describeExit(info.exit) || '-',
  ];
}

/** Shell-like quoting so the printed argv can be read (and pasted) unambiguously. */
function quoteArgv(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function formatSessionDetails(info: SessionInfo, style: Styler, now: number): string {
  const rows: [string, string][] = [
    ['id', info.id],
    ['name', info.name ?? '-'],
    ['task', info.taskId ?? '-'],
    ['profile', `${info.profile} (${info.kind})`],
    ['command', quoteArgv(info.command)],
    ['cwd', info.cwd],
    ['state', `${styleState(info.state, style)} (${info.stateReason}, from ${info.stateSource})`],
    ['pid', info.pid === null ? '-' : String(info.pid)],
    ['size', info.kind === 'pty' ? `${info.cols}x${info.rows}` : '-'],
    ['created', `${info.createdAt} (${age(info, now)} ago)`],
    ['ended', info.endedAt ?? '-'],
    ['exit', describeExit(info.exit) || '-'],
    ['output', `${info.output.totalBytes} bytes` + (info.kind === 'pipe' ? ` (stdout ${info.output.stdoutBytes}, stderr ${info.output.stderrBytes})` : '')],
  ];
  const held = containmentText(info);
  if (held !== null) rows.push(['contain', held]);
  const sandbox = sandboxText(info);
  if (sandbox !== null) {
    const binds = sandboxBindsText(info);
    rows.push(['sandbox', binds === null ? sandbox : `${sandbox}; ${binds}`]);
  }
  if (info.usage !== null) {
    rows.push(['usage', `cpu ${formatDuration(info.usage.cpuMs)}, rss ${Math.round(info.usage.rssBytes / 1024 / 1024)} MiB, ${info.usage.processCount} processes`]);
  }
  const env = Object.entries(info.env);
  if (env.length > 0) rows.push(['env', env.map(([k, v]) => `${k}=${v}`).join(' ')]);
  const labels = Object.entries(info.labels);
  if (labels.length > 0) rows.push(['labels', labels.map(([k, v]) => `${k}=${v}`).join(' ')]);
  // State is already styled (and made of known words); every other value came from a caller or a process.
  return rows.map(([key, value]) => `${style.bold(key.padEnd(8))} ${key === 'state' ? value : neutralize(value)}`).join('\n') + '\n';
}
