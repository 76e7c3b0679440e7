// What the daemon tells a face about a dialog on an agent's screen (GET /sessions/{id}/dialog), read from screens
// recorded from the real Claude Code CLI, and the conversation read from a recorded transcript.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileRegistry } from '../../../src/engine/profiles/ProfileRegistry.js';
import { describeDialog } from '../../../src/engine/agent/pendingDialog.js';
import { conversationFromTranscript } from '../../../src/engine/agent/transcript.js';
import { fixture } from '../../helpers/fixtures.js';

/** Claude's transcript shape, as profiles/claude.json gives it. */
const CLAUDE_SHAPE = { promptType: 'user', replyType: 'assistant' };

const claude = new ProfileRegistry().get('claude');

function screenLines(name: string): string[] {
  const [, ...lines] = readFileSync(join(fixture('claude-screens'), `${name}.txt`), 'utf8').replace(/\n$/, '').split('\n');
  return lines;
}

function dialog(id: string): (typeof claude.dialogs)[number] {
  const found = claude.dialogs.find((d) => d.id === id);
  assert.ok(found !== undefined, `the claude profile has a ${id} dialog`);
  return found;
}

test('a permission dialog: its question, the command it is about, the tool, and the options answer takes', () => {
  const now = Date.parse('2026-12-03T12:00:00.000Z');
  const described = describeDialog(dialog('permission'), screenLines('permission-prompt'), 2500, now);
  assert.equal(described.id, 'permission');
  assert.equal(described.question, 'Do you want to proceed?');
  assert.ok(described.context.includes('touch made-by-tool.txt && echo touched'), described.context.join(' | '));
  assert.ok(!described.context.some((line) => /^[╌─]+$/u.test(line)), 'separator lines are not context');
  assert.equal(described.tool, 'Bash');
  assert.deepEqual(described.options.map((o) => [o.number, o.label.slice(0, 20), o.selected]), [
    [1, 'Yes', true],
    [2, 'Yes, and always allo', false],
    [3, 'Yes, and switch to a', false],
    [4, 'No', false],
  ]);
  assert.equal(described.since, '2026-12-03T11:59:57.500Z');
});

test('the trust dialog: its question line and its two options, the cursor on "No, exit"', () => {
  const described = describeDialog(dialog('trust'), screenLines('trust-dialog'), 0);
  assert.match(described.question, /^Quick safety check: Is this a project you created or one you trust\?/);
  assert.deepEqual(described.options.map((o) => [o.label, o.selected]), [['No, exit', true], ['Yes, I trust this folder', false]]);
  assert.equal(described.tool, null);
});

test('the conversation of a transcript: typed prompts and the assistant text, oldest first; tool results are not prompts', () => {
  const turns = conversationFromTranscript(readFileSync(join(fixture('claude-transcripts'), 'permission.jsonl'), 'utf8'), CLAUDE_SHAPE);
  assert.ok(turns.length >= 2, JSON.stringify(turns));
  assert.equal(turns[0]?.role, 'user');
  for (const turn of turns) assert.ok(turn.text.trim() !== '' && typeof turn.at === 'string');
  for (let i = 1; i < turns.length; i++) assert.ok(!(turns[i]?.role === 'assistant' && turns[i - 1]?.role === 'assistant'), 'replies of one turn are joined');
  const all = conversationFromTranscript(readFileSync(join(fixture('claude-transcripts'), 'turns.jsonl'), 'utf8'), CLAUDE_SHAPE);
  assert.deepEqual(all.filter((t) => t.role === 'user').map((t) => t.text).slice(0, 2), ['slow 6: hello world from a slow reply', 'slow 20: this one gets interrupted']);
  assert.ok(all.some((t) => t.role === 'assistant' && t.text.includes('hello world from a slow reply')));
  // A torn last line (the CLI mid-write) is skipped, not an error.
  assert.deepEqual(conversationFromTranscript('{"type":"user","message":{"content":"hi"},"timestamp":"2026-01-01T00:00:00Z"}\n{"type":"assist', CLAUDE_SHAPE), [
    { role: 'user', text: 'hi', at: '2026-01-01T00:00:00Z' },
  ]);
});
