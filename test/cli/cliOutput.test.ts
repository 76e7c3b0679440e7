// The CLI's output helpers: durations, escape neutralizing, tables, colour policy. Pure functions, no daemon.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/cli/output/duration.js';
import { neutralize, Neutralizer, terminalSafeJson } from '../../src/cli/output/neutralize.js';
import { formatTable } from '../../src/cli/output/table.js';
import { colorEnabled, styler } from '../../src/cli/output/style.js';
import { chunkText } from '../../src/client/textChunks.js';

test('parseDuration reads ms, s, m, h, compound forms and bare seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('10'), 10_000);
});

test('parseDuration rejects text that is not a duration, naming the option', () => {
  for (const bad of ['', 'abc', '10x', 's', '5s junk', '-3s']) {
    assert.throws(() => parseDuration(bad, 'timeout'), /--timeout: .* is not a duration/, bad);
  }
});

test('formatDuration prints short human durations', () => {
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(42_000), '42s');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(3_600_000 + 5 * 60_000), '1h5m');
  assert.equal(formatDuration(3 * 86_400_000), '3d');
  assert.equal(formatDuration(-1), '-');
});

test('neutralize makes ESC, BEL, C1, DEL, lone CR and bidi overrides visible and keeps newline and tab', () => {
  const hostile = '\u001b]0;evil\u0007\u001b[31mred\u001b[0m\ttab\rover\u009b2J\u007f\u202Egnp.exe\n';
  const safe = neutralize(hostile);
  assert.equal(safe, '^[]0;evil^G^[[31mred^[[0m\ttab^MoverM-^[2J^?<U+202E>gnp.exe\n');
  // eslint-disable-next-line no-control-regex -- asserting that no control character is left
  assert.doesNotMatch(safe, /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E]/);
});

test('neutralize turns terminal line ends into plain newlines', () => {
  assert.equal(neutralize('a\r\nb\r\r\nc'), 'a\nb\nc');
});

test('Neutralizer prints the same text whatever the chunk boundaries', () => {
  const input = 'one\r\ntwo\r\r\nthree\rfour\u001b[1m\r';
  const whole = neutralize(input);
  for (let cut = 0; cut <= input.length; cut++) {
    const n = new Neutralizer();
    const out = n.push(input.slice(0, cut)) + n.push(input.slice(cut)) + n.end();
    assert.equal(out, whole, `cut at ${cut}`);
  }
});

test('terminalSafeJson escapes DEL, C1 controls and bidi controls, and parses back to the same value', () => {
  const value = { data: 'x\u007f\u0085\u009b31m\u202e\u2069 é ✓ \u001b', n: [1] };
  const text = terminalSafeJson(value, 2);
  assert.doesNotMatch(text, /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  assert.ok(!text.includes('\u001b'));
  assert.ok(text.includes('x\\u007f\\u0085\\u009b31m\\u202e\\u2069 é ✓ \\u001b'), text);
  assert.deepEqual(JSON.parse(text), value);
});

test('formatTable pads columns to the widest cell, ignoring colour codes, without trailing spaces', () => {
  const bold = '\u001b[1mbusy\u001b[22m';
  const text = formatTable(['ID', 'STATE', 'AGE'], [['s_1', bold, '5s'], ['s_22222', 'idle', '10m']]);
  // eslint-disable-next-line no-control-regex -- removing the SGR codes the styler added
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  assert.equal(plain, 'ID       STATE  AGE\ns_1      busy   5s\ns_22222  idle   10m\n');
});

test('formatTable clips a very long cell with an ellipsis', () => {
  const text = formatTable(['TASK', 'X'], [['t'.repeat(200), 'x']]);
  assert.match(text, /t{47}… {2}x/);
});

test('colours are on only for a TTY and never when NO_COLOR is set', () => {
  assert.equal(colorEnabled({ isTTY: true }, {}), true);
  assert.equal(colorEnabled({ isTTY: false }, {}), false);
  assert.equal(colorEnabled({}, {}), false);
  assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  assert.equal(styler({ isTTY: false }, {}).red('x'), 'x');
  assert.equal(styler({ isTTY: true }, {}).red('x'), '\u001b[31mx\u001b[39m');
});

test('chunkText splits long input without cutting a surrogate pair', () => {
  const text = 'a'.repeat(9) + '😀' + 'b'.repeat(5);
  const chunks = chunkText(text, 10);
  assert.equal(chunks.join(''), text);
  assert.ok(chunks.every((c) => c.length <= 10));
  assert.equal(chunks[0], 'a'.repeat(9));
});
