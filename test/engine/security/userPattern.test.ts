// Caller patterns must never backtrack exponentially on the daemon's thread (PRODUCT §3: bad input gets a clear
// error and the daemon stays responsive). No timed assertion: the hostile input is long enough that an unprotected
// pattern would never finish (2^60 steps), so a regression shows as this file hanging until the runner kills it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backtracksExponentially, compileUserPattern } from '../../../src/engine/security/userPattern.js';
import { isCorralError } from '../../../src/protocol/errors.js';

/** 60 a's and a mismatch: (a+)+$ backtracks about 2^60 times on this without protection (28 a's took 15 s). */
const HOSTILE = `${'a'.repeat(60)}!`;

test('catastrophic patterns the linear engine can take finish, with the right answer', () => {
  for (const [source, flags] of [['(a+)+$', 'm'], ['(a|aa)*$', ''], ['^(\\w+\\s?)*$', 'm'], ['(a+a+)+b', 'g']] as const) {
    assert.equal(compileUserPattern(source, flags).test(HOSTILE), source === '(a|aa)*$', source);
  }
  assert.equal(compileUserPattern('(a+)+!$').test(HOSTILE), true);
});

test('nested repetition the linear engine cannot take (ignore-case, backreference, lookaround) is refused with INVALID_PATTERN', () => {
  for (const [source, flags] of [['(a+)+$', 'i'], ['(a|b)*\\1', ''], ['(?<=x)(a+)+$', ''], ['((ab)*c)+', 'i']] as const) {
    assert.throws(
      () => compileUserPattern(source, flags),
      (error: unknown) => isCorralError(error) && error.code === 'INVALID_PATTERN' && /exponential/.test(error.message),
      `${source} /${flags}`,
    );
  }
});

test('ordinary patterns compile with any flags, and a malformed one is INVALID_PATTERN', () => {
  for (const [source, flags] of [['error|warning', 'i'], ['^\\$ $', 'm'], ['(foo)\\1', ''], ['[a-z]+\\d{2,}', 'i'], ['(?<=id=)\\w+', '']] as const) {
    assert.ok(compileUserPattern(source, flags) instanceof RegExp, source);
  }
  assert.throws(() => compileUserPattern('(unclosed'), (error: unknown) => isCorralError(error) && error.code === 'INVALID_PATTERN');
});

test('the structural check: nested unbounded repetition and quantified alternation, not bounded or flat ones', () => {
  const risky = ['(a+)+', '(a*)*', '(a|b)+', '((a)+b)*', '(a{2,})+', '(?:x+y)*', '(a?b+){1,}'];
  const flat = ['a+b+', '(ab)+', '(a+)?', '(a+){2}', '[(+]+', '\\(a+\\)+', 'a|b', '(a|b)', '(a+)'];
  assert.deepEqual(risky.filter((s) => !backtracksExponentially(s)), []);
  assert.deepEqual(flat.filter((s) => backtracksExponentially(s)), []);
});
