// Reads an agent CLI's rendered screen and window title against its profile: which dialog is up, whether a turn
// is running, whether the last turn failed, whether the input line is there. Pure functions of (profile, screen)
// so they are unit-tested on recorded screens; they never touch a session or a process.

import type { Profile, ProfileDialog } from '../profiles/profileSchema.js';

export interface ScreenView {
  lines: readonly string[];
  title: string;
}

export type ScreenVerdict =
  | { kind: 'dialog'; dialog: ProfileDialog; state: ProfileDialog['state']; reason: string }
  | { kind: 'busy'; reason: string }
  | { kind: 'authenticating'; reason: string }
  | { kind: 'waiting_input'; reason: string }
  | { kind: 'error'; reason: string; error: string | null }
  | { kind: 'input_ready'; reason: string };

interface CompiledRules {
  dialogs: { dialog: ProfileDialog; match: RegExp[] }[];
  busy: RegExp[];
  titleBusy: RegExp[];
  titleIdle: RegExp[];
  error: RegExp[];
  turnError: RegExp[];
  authenticating: RegExp[];
  waitingInput: RegExp[];
  inputReady: RegExp[];
  notReady: RegExp[];
}

const compiled = new WeakMap<Profile, CompiledRules>();

/** Multiline so `^` anchors a screen row; Unicode so `❯` and friends are one character. */
function re(source: string): RegExp {
  return new RegExp(source, 'mu');
}

function rulesOf(profile: Profile): CompiledRules {
  let rules = compiled.get(profile);
  if (rules === undefined) {
    const screen = profile.screen;
    rules = {
      dialogs: profile.dialogs.map((dialog) => ({ dialog, match: dialog.match.map(re) })),
      busy: (screen?.busy ?? []).map(re),
      titleBusy: (screen?.titleBusy ?? []).map(re),
      titleIdle: (screen?.titleIdle ?? []).map(re),
      error: (screen?.error ?? []).map(re),
      turnError: (screen?.turnError ?? []).map(re),
      authenticating: (screen?.authenticating ?? []).map(re),
      waitingInput: (screen?.waitingInput ?? []).map(re),
      inputReady: (screen?.inputReady ?? []).map(re),
      notReady: (screen?.notReady ?? []).map(re),
    };
    compiled.set(profile, rules);
  }
  return rules;
}

function firstMatch(patterns: readonly RegExp[], text: string): RegExp | undefined {
  return patterns.find((pattern) => pattern.test(text));
}

/** What the screen says, most specific first: a dialog, login, a question, a running turn, a failed turn, the input line. */
export function classifyScreen(profile: Profile, view: ScreenView): ScreenVerdict | null {
  const rules = rulesOf(profile);
  const text = view.lines.join('\n');
  for (const { dialog, match } of rules.dialogs) {
    if (match.every((pattern) => pattern.test(text))) {
      return { kind: 'dialog', dialog, state: dialog.state, reason: `dialog: ${dialog.id}` };
    }
  }
  if (firstMatch(rules.authenticating, text) !== undefined) return { kind: 'authenticating', reason: 'login screen' };
  if (firstMatch(rules.waitingInput, text) !== undefined) return { kind: 'waiting_input', reason: 'question on screen' };
  if (firstMatch(rules.busy, text) !== undefined) return { kind: 'busy', reason: 'turn running (screen)' };
  if (firstMatch(rules.titleBusy, view.title) !== undefined) return { kind: 'busy', reason: 'turn running (title)' };
  if (firstMatch(rules.error, text) !== undefined) {
    const error = lastTurnError(profile, view.lines);
    return { kind: 'error', reason: `turn failed: ${error ?? 'error on screen'}`, error };
  }
  if (firstMatch(rules.inputReady, text) !== undefined && firstMatch(rules.notReady, text) === undefined) {
    return { kind: 'input_ready', reason: 'input line on screen' };
  }
  return null;
}

/** The newest error line on screen (first group of a `turnError` pattern), e.g. `API Error: 500 Internal server error…`. */
function lastTurnError(profile: Profile, lines: readonly string[]): string | null {
  const rules = rulesOf(profile);
  for (let y = lines.length - 1; y >= 0; y--) {
    const line = lines[y] ?? '';
    for (const pattern of rules.turnError) {
      const match = pattern.exec(line);
      if (match !== null) return (match[1] ?? match[0]).trim();
    }
  }
  return null;
}

/** The tool a permission dialog asks about, from its `toolPattern`. */
export function dialogTool(dialog: ProfileDialog, lines: readonly string[]): string | null {
  if (dialog.toolPattern === undefined) return null;
  const pattern = re(dialog.toolPattern);
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match?.[1] !== undefined) return match[1];
  }
  return null;
}

/** The dialog's question as on screen: the line its `question` pattern (default: its first `match` pattern) finds. */
export function dialogQuestion(dialog: ProfileDialog, lines: readonly string[]): string {
  const at = dialogQuestionLine(dialog, lines);
  return at < 0 ? dialog.description : stripBox(lines[at] ?? '');
}

/** Where the dialog's question line is on screen (its `question` pattern, else its first match), or -1. */
export function dialogQuestionLine(dialog: ProfileDialog, lines: readonly string[]): number {
  const pattern = re(dialog.question ?? dialog.match[0] ?? '');
  return lines.findIndex((candidate) => pattern.test(candidate));
}

/** A line of a dialog drawn in a box (Gemini CLI) without its borders. */
function stripBox(line: string): string {
  return line.trim().replace(/^[│┃]\s*/u, '').replace(/\s*[│┃]$/u, '').trim();
}

export interface DialogOption {
  /** 0-based position in the list. */
  index: number;
  /** Its label without the selection mark and number, e.g. `Yes, I trust this folder`. */
  label: string;
  /** The number printed before it (`1.`), for `number` dialogs. */
  number: number | null;
}

export interface DialogOptions {
  options: DialogOption[];
  /** Index of the option the cursor is on; -1 when none shows the mark. */
  selected: number;
}

/** The options of a dialog as rendered. Wrapped continuation lines of numbered options are skipped. */
export function dialogOptions(dialog: ProfileDialog, lines: readonly string[]): DialogOptions {
  const spec = dialog.options;
  if (spec === undefined) return { options: [], selected: -1 };
  const after = re(spec.after);
  const before = re(spec.before);
  const start = lines.findIndex((line) => after.test(line));
  if (start < 0) return { options: [], selected: -1 };
  const options: DialogOption[] = [];
  let selected = -1;
  for (let y = start + 1; y < lines.length; y++) {
    const line = lines[y] ?? '';
    if (before.test(line)) break;
    // Dialogs drawn in a box (Gemini CLI) carry its borders on each line.
    let rest = stripBox(line);
    if (rest === '') continue;
    let marked = false;
    if (rest.startsWith(spec.selectedMark)) {
      marked = true;
      rest = rest.slice(spec.selectedMark.length).trim();
    }
    const numbered = /^(\d+)\.\s+(.*)$/u.exec(rest);
    if ((spec.select === 'number' || spec.numberedOnly) && numbered === null) continue;
    const label = (numbered?.[2] ?? rest).trim();
    if (marked) selected = options.length;
    options.push({ index: options.length, label, number: numbered?.[1] === undefined ? null : Number(numbered[1]) });
  }
  return { options, selected };
}

/** The option a caller's choice names: its number (`2`), its exact label, or the one label it starts (case-insensitive). */
export function findOption(options: readonly DialogOption[], choice: string): DialogOption | undefined {
  const wanted = choice.trim();
  if (/^\d+$/u.test(wanted)) {
    const n = Number(wanted);
    return options.find((option) => option.number === n) ?? (options.some((o) => o.number !== null) ? undefined : options[n - 1]);
  }
  const lower = wanted.toLowerCase();
  const exact = options.find((option) => option.label.toLowerCase() === lower);
  if (exact !== undefined) return exact;
  const prefixed = options.filter((option) => option.label.toLowerCase().startsWith(lower));
  return prefixed.length === 1 ? prefixed[0] : undefined;
}
