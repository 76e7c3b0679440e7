// What a dialog on an agent's screen asks, as a face shows it: the question line, the lines above it that say
// what it is about (the command a tool wants to run), and the options an `answer` takes. Read from the profile's
// patterns on the rendered screen, so a face never parses the screen itself.

import type { PendingDialog } from '../../protocol/apiReplies.js';
import type { ProfileDialog } from '../profiles/profileSchema.js';
import { dialogOptions, dialogQuestion, dialogQuestionLine, dialogTool } from './screenRules.js';

/** Lines above the question kept as its context (a permission dialog's tool and command). */
const CONTEXT_LINES = 8;

/** Box borders some CLIs draw around a dialog (Gemini CLI, Claude's permission box). */
function unboxed(line: string): string {
  return line.trim().replace(/^[│┃|╭╰─]+\s*/u, '').replace(/\s*[│┃|╮╯─]+$/u, '').trim();
}

/** The dialog `dialog` as shown on `lines`; `sinceMs` is how long ago it appeared. */
export function describeDialog(dialog: ProfileDialog, lines: readonly string[], sinceMs: number, now: number = Date.now()): PendingDialog {
  // The question line as the session info names it (the profile's `question` pattern, else its first match).
  const found = dialogQuestionLine(dialog, lines);
  const at = found < 0 ? lines.length : found;
  const question = dialogQuestion(dialog, lines);
  const context = lines
    .slice(Math.max(0, at - CONTEXT_LINES), at)
    .map(unboxed)
    .filter((line) => line !== '' && !/^[─━═╌-]+$/u.test(line));
  const { options, selected } = dialogOptions(dialog, lines);
  return {
    id: dialog.id,
    description: dialog.description,
    question,
    context,
    tool: dialogTool(dialog, lines),
    options: options.map((option) => ({ index: option.index, label: option.label, number: option.number, selected: option.index === selected })),
    since: new Date(now - Math.max(0, sinceMs)).toISOString(),
  };
}
