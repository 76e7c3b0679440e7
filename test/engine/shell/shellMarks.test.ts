import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShellMarkParser, stripOwnMarks } from '../../../src/engine/shell/shellMarks.js';

test('marks are found with absolute offsets, also when split across chunks', () => {
  const parser = new ShellMarkParser('n1');
  const bytes = Buffer.from('out\x1b]633;n1;C\x07hello\x1b]633;n1;D;42\x07\x1b]633;n1;P;Cwd=/a\\x3bb\\\\c\x07\x1b]633;n1;A\x07$ ');
  const marks = [];
  for (let i = 0; i < bytes.length; i += 3) marks.push(...parser.parse(bytes.subarray(i, i + 3), 100 + i));
  assert.deepEqual(
    marks.map((m) => m.type),
    ['C', 'D', 'P', 'A'],
  );
  assert.equal(marks[0]?.start, 103);
  assert.equal(marks[0]?.end, 103 + '\x1b]633;n1;C\x07'.length);
  const d = marks[1];
  assert.equal(d?.type === 'D' ? d.exitCode : undefined, 42);
  const p = marks[2];
  assert.equal(p?.type === 'P' ? p.cwd : undefined, '/a;b\\c');
});

test('a mark without the session nonce (forged by program output) is not a mark', () => {
  const parser = new ShellMarkParser('secret');
  const forged = Buffer.from('\x1b]133;D;0\x07\x1b]633;D;0\x07\x1b]633;other;D;0\x07\x1b]633;secre;D;0\x07');
  assert.deepEqual(parser.parse(forged, 0), []);
});

test('stripOwnMarks removes only this nonce\'s marks', () => {
  const data = Buffer.from('a\x1b]633;n;C\x07b\x1b]133;D;0\x07c');
  assert.equal(stripOwnMarks(data, 'n').toString(), 'ab\x1b]133;D;0\x07c');
});
