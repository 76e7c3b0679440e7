// Which turn a turn-end hook belongs to, for the hook orders the real CLIs produce (docs/agent-clis.md,
// docs/claude-code-notes.md). The end-to-end case with the real CLIs is lateTurnEnd.test.ts.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TurnLedger } from '../../../src/engine/agent/turnLedger.js';

const reply = (text: string) => ({ reply: text, failed: false });

describe('TurnLedger', () => {
  it('Claude queued prompt (start, start, end, end): the first end is the earlier turn, not current', () => {
    const ledger = new TurnLedger();
    const one = ledger.submit('one');
    ledger.started('p1', 'one');
    const two = ledger.submit('two');
    ledger.started('p2', 'two');
    assert.equal(ledger.ended('p1', null, reply('echo: one')).current, false);
    assert.equal(ledger.since(two).end, null, 'turn two has not ended');
    assert.deepEqual(ledger.since(one).end, reply('echo: one'));
    assert.equal(ledger.ended('p2', null, reply('echo: two')).current, true);
    assert.equal(ledger.since(two).end?.reply, 'echo: two');
  });

  it('an end that lands after the next prompt was typed but before its start hook is not that prompt\'s', () => {
    const ledger = new TurnLedger();
    ledger.submit('one');
    ledger.started('p1', 'one');
    const two = ledger.submit('two');
    assert.equal(ledger.ended('p1', null, reply('echo: one')).current, false);
    assert.deepEqual(ledger.since(two), { started: false, end: null });
    ledger.started('p2', 'two');
    assert.equal(ledger.since(two).started, true);
  });

  it('an interrupted turn (no end hook) does not shift the next turn\'s end', () => {
    const ledger = new TurnLedger();
    ledger.submit('one');
    ledger.started('p1', 'one');
    const two = ledger.submit('two');
    ledger.started('p2', 'two');
    assert.equal(ledger.ended('p2', null, reply('echo: two')).current, true);
    assert.equal(ledger.since(two).end?.reply, 'echo: two');
  });

  it('no turn-start hooks and no ids (Codex without its hook): the prompt text ties the end, oldest open first', () => {
    const ledger = new TurnLedger();
    const one = ledger.submit('same text');
    const two = ledger.submit('same text');
    assert.equal(ledger.reportsStarts, false);
    assert.equal(ledger.ended(null, 'same text', reply('late')).current, false, 'the earlier turn with that prompt');
    assert.equal(ledger.since(one).end?.reply, 'late');
    assert.equal(ledger.ended(null, ' same\ntext ', reply('mine')).current, true, 'whitespace folded');
    assert.equal(ledger.since(two).end?.reply, 'mine');
  });

  it('an end nothing matches is the latest turn\'s (after a restart, or a turn typed at the terminal)', () => {
    const fresh = new TurnLedger();
    assert.deepEqual(fresh.ended('unknown', null, reply('x')), { turn: null, current: true });
    const ledger = new TurnLedger();
    const typed = ledger.started(null, 'typed at the terminal');
    assert.equal(typed.submitted, false);
    assert.equal(ledger.ended(null, 'something else', reply('y')).current, true);
  });
});
