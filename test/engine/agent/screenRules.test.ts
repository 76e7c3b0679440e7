// The Claude profile's screen rules against screens recorded from the real CLI (2.1.329): each situation is
// classified as the state it means, dialogs' options are read as rendered, errors are recorded with their text.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileRegistry } from '../../../src/engine/profiles/ProfileRegistry.js';
import { parseProfile } from '../../../src/engine/profiles/ProfileRegistry.js';
import { classifyScreen, dialogOptions, dialogTool, findOption, type ScreenView } from '../../../src/engine/agent/screenRules.js';
import { fixture } from '../../helpers/fixtures.js';

const SCREENS = fixture('claude-screens');
const claude = new ProfileRegistry().get('claude');

function screen(name: string): ScreenView {
  const [first = '', ...lines] = readFileSync(join(SCREENS, `${name}.txt`), 'utf8').replace(/\n$/, '').split('\n');
  return { title: first.replace(/^# title: ?/, ''), lines };
}

/** Every recorded situation and what it must read as (kind, and the dialog id for dialogs). */
const EXPECTED: Record<string, string> = {
  'trust-dialog': 'dialog:trust',
  'trust-dialog-yes-selected': 'dialog:trust',
  'api-key-question': 'dialog:api_key',
  'api-key-question-up': 'dialog:api_key',
  ready: 'input_ready',
  'ready-manual-mode': 'input_ready',
  'ready-after-trust': 'input_ready',
  'ready-after-api-key': 'input_ready',
  'no-key-start': 'input_ready',
  busy: 'busy',
  'busy-with-queued-prompt': 'busy',
  'permission-prompt': 'dialog:permission',
  'idle-after-turn': 'input_ready',
  'idle-after-tool': 'input_ready',
  'idle-after-failed-tool': 'input_ready',
  'idle-after-queued': 'input_ready',
  'idle-after-idle-notification': 'input_ready',
  interrupted: 'input_ready',
  'interrupted-ctrl-c': 'input_ready',
  'permission-rejected': 'input_ready',
  // Recorded after a failed turn: the placeholder still asks to resend.
  'ctrl-c-once': 'error',
  'api-error': 'error',
  'overloaded-error': 'error',
  'auth-error': 'error',
  'not-logged-in': 'error',
  'login-screen': 'dialog:login',
  'login-screen-after-esc': 'error',
};

describe('claude screen rules on recorded screens', () => {
  it('has an expectation for every recorded screen but the first-run wizard', () => {
    const names = readdirSync(SCREENS).map((file) => file.replace(/\.txt$/, ''));
    assert.deepEqual(names.filter((name) => !(name in EXPECTED)).sort(), ['first-run-unreachable']);
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`reads ${name} as ${expected}`, () => {
      const verdict = classifyScreen(claude, screen(name));
      assert.ok(verdict !== null, `${name}: nothing matched`);
      const got = verdict.kind === 'dialog' ? `dialog:${verdict.dialog.id}` : verdict.kind;
      assert.equal(got, expected);
    });
  }

  it('records the API error text of a failed turn', () => {
    const e500 = classifyScreen(claude, screen('api-error'));
    assert.ok(e500?.kind === 'error');
    assert.match(e500.error ?? '', /^API Error: 500 Internal server error/);
    const e401 = classifyScreen(claude, screen('auth-error'));
    assert.ok(e401?.kind === 'error');
    assert.match(e401.error ?? '', /^Invalid API key/);
    const e529 = classifyScreen(claude, screen('overloaded-error'));
    assert.ok(e529?.kind === 'error');
    assert.match(e529.error ?? '', /529 Overloaded/);
  });

  it('reads the trust dialog options with the cursor on "No, exit" first', () => {
    const view = screen('trust-dialog');
    const verdict = classifyScreen(claude, view);
    assert.ok(verdict?.kind === 'dialog');
    const { options, selected } = dialogOptions(verdict.dialog, view.lines);
    assert.deepEqual(options.map((o) => o.label), ['No, exit', 'Yes, I trust this folder']);
    assert.equal(selected, 0);
    assert.equal(findOption(options, 'yes')?.index, 1);
    assert.equal(findOption(options, '2')?.index, 1);
    const moved = screen('trust-dialog-yes-selected');
    assert.equal(dialogOptions(verdict.dialog, moved.lines).selected, 1);
  });

  it('reads the API-key question options with the cursor on "No (recommended)"', () => {
    const view = screen('api-key-question');
    const verdict = classifyScreen(claude, view);
    assert.ok(verdict?.kind === 'dialog' && verdict.state === 'authenticating');
    const { options, selected } = dialogOptions(verdict.dialog, view.lines);
    assert.deepEqual(options.map((o) => o.label), ['Yes', 'No (recommended)']);
    assert.equal(selected, 1);
    assert.equal(findOption(options, 'Yes')?.index, 0);
  });

  it('reads the numbered permission options and the tool it asks about', () => {
    const view = screen('permission-prompt');
    const verdict = classifyScreen(claude, view);
    assert.ok(verdict?.kind === 'dialog' && verdict.state === 'waiting_input');
    const { options, selected } = dialogOptions(verdict.dialog, view.lines);
    assert.equal(options.length, 4);
    assert.deepEqual(options.map((o) => o.number), [1, 2, 3, 4]);
    assert.equal(options[3]?.label, 'No');
    assert.equal(selected, 0);
    assert.equal(findOption(options, 'no')?.number, 4);
    assert.equal(findOption(options, 'Yes'), options[0], 'an exact label wins over longer ones it starts');
    assert.equal(findOption(options, '7'), undefined);
    assert.equal(dialogTool(verdict.dialog, view.lines), 'Bash');
  });

  it('does not take the effort indicator ◐ on screen for a running turn', () => {
    const view = screen('ready');
    assert.match(view.lines.join('\n'), /◐ medium/);
    assert.equal(classifyScreen(claude, view)?.kind, 'input_ready');
  });

  it('finds nothing known on a screen that is not Claude', () => {
    assert.equal(classifyScreen(claude, { title: '', lines: ['$ ls', 'a b c', '$ '] }), null);
  });

  it('refuses a profile with an unknown key or a pattern that does not compile', () => {
    const base = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'profiles', 'claude.json'), 'utf8')) as Record<string, unknown>;
    assert.throws(() => parseProfile('x.json', JSON.stringify({ ...base, agent: { hooks: { settingsFlag: '--s', events: ['Stop'] }, bogus: 1 } })), /bogus|Unrecognized/);
    assert.throws(() => parseProfile('x.json', JSON.stringify({ ...base, screen: { busy: ['(unclosed'] } })), /does not compile/);
  });
});
