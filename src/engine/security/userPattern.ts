// Regular expressions from callers (wait patterns, search, line filters, macro steps) run on the daemon's only
// JS thread against output a hostile program wrote. A backtracking pattern like (a+)+$ on 30 bytes took 15 s and
// stalled every face, so no caller pattern may run in exponential time:
//   - V8 falls back to its linear-time engine for a pattern that backtracks too much, when that engine supports
//     the pattern (no backreferences or lookarounds, no i/u flags). The switch is turned on here, before any
//     caller pattern is compiled.
//   - A pattern the linear engine cannot take is refused when it nests unbounded quantifiers (or quantifies an
//     alternation), the shapes that backtrack exponentially; the error says how to rewrite it.

import { setFlagsFromString } from 'node:v8';
import { CorralError } from '../../protocol/errors.js';

setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Compiles a caller's pattern, or throws INVALID_PATTERN (not a regex) or PATTERN_TOO_COMPLEX (see above). */
export function compileUserPattern(source: string, flags = ''): RegExp {
  let regex: RegExp;
  try {
    regex = new RegExp(source, flags);
  } catch (error) {
    // V8's SyntaxError already reads "Invalid regular expression: /(/: Unterminated group": say it once.
    const reason = (error as Error).message.replace(/^Invalid regular expression: /, '');
    throw new CorralError('INVALID_PATTERN', `Invalid regular expression: ${reason}`, { details: { pattern: source } });
  }
  if (!hasLinearFallback(source, flags) && backtracksExponentially(source)) {
    throw new CorralError(
      'INVALID_PATTERN',
      `The pattern ${JSON.stringify(source)} nests repetition (like (a+)+ or (a|b)*) in a form that can take exponential ` +
        'time on hostile output, and it cannot run on the linear-time engine' +
        (/[iu]/.test(flags) ? ' with case-insensitive matching' : ' (it has a backreference or a lookaround)') +
        '. Flatten the repetition, or spell out the cases with character classes ([Ee]rror).',
      { details: { pattern: source, reason: 'exponential-backtracking' } },
    );
  }
  return regex;
}

/** A caller's wait pattern (waits, macro steps): multi-line, so ^ and $ match at line ends. */
export function compileWaitPattern(source: string): RegExp {
  return compileUserPattern(source, 'm');
}

/** Whether V8 can switch this pattern to its linear-time engine when it backtracks too much. */
function hasLinearFallback(source: string, flags: string): boolean {
  if (/[iud]/.test(flags)) return false;
  try {
    new RegExp(source, `${flags}l`);
    return true;
  } catch {
    // "Cannot be executed in linear time": a backreference or a lookaround.
    return false;
  }
}

interface GroupScan {
  /** A quantifier (or an alternation) somewhere inside the group. */
  repeats: boolean;
}

/**
 * Star height above one, approximately: an unbounded quantifier (*, +, {n,}) applied to a group that itself
 * contains a quantifier or an alternation. Conservative on purpose (it also refuses some safe patterns such as
 * (ab|cd)+); it only judges patterns the linear engine cannot take.
 */
export function backtracksExponentially(source: string): boolean {
  const stack: GroupScan[] = [{ repeats: false }];
  let lastGroup: GroupScan | null = null;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    const current = stack[stack.length - 1] as GroupScan;
    if (c === '\\') {
      i++;
      lastGroup = null;
    } else if (c === '[') {
      // A character class is one atom: skip to its unescaped end.
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      lastGroup = null;
    } else if (c === '(') {
      stack.push({ repeats: false });
      lastGroup = null;
    } else if (c === ')') {
      lastGroup = stack.length > 1 ? (stack.pop() as GroupScan) : null;
      if (lastGroup?.repeats === true) (stack[stack.length - 1] as GroupScan).repeats = true;
    } else if (c === '|') {
      current.repeats = true;
      lastGroup = null;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(i)))) {
      const unbounded = c === '*' || c === '+' || (c === '{' && /^\{\d+,\}/.test(source.slice(i)));
      if (unbounded && lastGroup?.repeats === true) return true;
      current.repeats = true;
      lastGroup = null;
    } else {
      lastGroup = null;
    }
  }
  return false;
}
