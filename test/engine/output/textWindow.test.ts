// Bounded text reads at every window edge over a recorded stream of OSC (shell integration 633 with its nonce, a
// title), CSI, DCS, 8-bit and two-byte sequences: no read shows any part of a control sequence, following from any
// offset with any limit rebuilds the text view, and the raw view is the bytes as they are.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutputStream } from '../../../src/engine/output/OutputStream.js';
import { readView } from '../../../src/engine/output/readView.js';
import { toPlainText } from '../../../src/engine/output/textView.js';

const NONCE = 'd19f7924ebfc4a1b';
/** Plain text uses only these characters; every sequence below carries characters outside them (digits, `;`, `=`). */
const PLAIN = /^[a-z \n]*$/;
const RECORDED = [
  `\x1b]633;${NONCE};A\x07`,
  'prompt ',
  `\x1b]633;${NONCE};P;Cwd=/tmp/work\x07`,
  '\x1b[1;32mgreen\x1b[0m words\r\n',
  `\x1b]633;${NONCE};E;make test;${NONCE}\x1b\\`,
  '\x1bP1$r0;38;5;208m\x1b\\',
  'dcs done\n',
  '\x1b]0;Title 42\x07',
  '\x1b7saved\x1b8\x1b=\x1b(B',
  '\u009b31mcsi\u009b0m \u009d0;T 9\u009c',
  `\x1b]633;${NONCE};D;5\x07`,
  'end\n',
].join('');

function recordedStream(extra = ''): OutputStream {
  const stream = new OutputStream(1024 * 1024, null);
  stream.append(Buffer.from(RECORDED + extra, 'utf8'));
  return stream;
}

function textRead(stream: OutputStream, since: number, maxBytes: number, mayGrow: boolean) {
  return readView(stream, { since, maxBytes, format: 'text', encoding: 'utf8', stream: 'combined' }, mayGrow);
}

test('the recorded stream as a whole reads as its plain text', () => {
  const whole = textRead(recordedStream(), 0, 1 << 20, false).data;
  assert.equal(whole, 'prompt green words\ndcs done\nsavedcsi end\n');
});

for (const mayGrow of [false, true]) {
  test(`no bounded text read shows part of a control sequence, from any offset with any limit (mayGrow ${mayGrow})`, () => {
    const stream = recordedStream();
    const end = stream.endOffset;
    const whole = textRead(stream, 0, 1 << 20, false).data;
    for (let since = 0; since <= end; since++) {
      for (let maxBytes = 1; maxBytes <= 64; maxBytes++) {
        const read = textRead(stream, since, maxBytes, mayGrow);
        assert.match(read.data, PLAIN, `since ${since}, maxBytes ${maxBytes}: ${JSON.stringify(read.data)}`);
        assert.ok(read.nextOffset >= since, 'never moves back');
      }
    }
    // Following from 0 with any limit rebuilds exactly the text view of the whole stream.
    for (let maxBytes = 1; maxBytes <= 80; maxBytes++) {
      let at = 0;
      let text = '';
      for (let steps = 0; at < end; steps++) {
        assert.ok(steps < 10 * end, `maxBytes ${maxBytes} makes progress`);
        const read = textRead(stream, at, maxBytes, mayGrow);
        if (read.nextOffset === at) break; // a live session waits for the rest of a sequence
        text += read.data;
        at = read.nextOffset;
      }
      if (!mayGrow) assert.equal(toPlainText(text), whole, `maxBytes ${maxBytes}`);
      else assert.ok(whole.startsWith(text.replace(/\r/g, '')), `maxBytes ${maxBytes}: ${JSON.stringify(text)}`);
    }
  });
}

test('a live read inside an unfinished sequence waits for it; once ended, the broken sequence is skipped', () => {
  const stream = recordedStream(`\x1b]633;${NONCE};P;Cwd=/ho`);
  const inside = stream.endOffset - 5;
  const live = textRead(stream, inside, 100, true);
  assert.equal(live.data, '');
  assert.equal(live.nextOffset, inside, 'waits for the rest of the sequence');
  const ended = textRead(stream, inside, 100, false);
  assert.equal(ended.data, '');
  assert.equal(ended.nextOffset, stream.endOffset);
  const before = textRead(stream, stream.endOffset - 40, 100, true);
  assert.match(before.data, PLAIN);
});

test('the raw view is unchanged: a window cut inside a sequence returns its bytes', () => {
  const stream = recordedStream();
  const at = RECORDED.indexOf('633;') + 2;
  const raw = readView(stream, { since: at, maxBytes: 10, format: 'raw', encoding: 'utf8', stream: 'combined' }, true);
  assert.equal(raw.data, RECORDED.slice(at, at + 10));
  assert.equal(raw.nextOffset, at + 10);
});
