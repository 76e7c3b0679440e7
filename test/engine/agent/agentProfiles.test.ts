// The codex and gemini profiles' screen rules and all three profiles' hook rules, as pure functions on screens
// and payloads seen from the real CLIs (codex-cli 0.169.0, gemini-cli 0.61.0, Claude Code 2.1.329; docs/agent-clis.md).

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ProfileRegistry } from '../../../src/engine/profiles/ProfileRegistry.js';
import { classifyScreen, dialogOptions } from '../../../src/engine/agent/screenRules.js';
import { matchHookRule } from '../../../src/engine/agent/AgentDetector.js';
import type { HookEvent } from '../../../src/engine/agent/HookServer.js';

const profiles = new ProfileRegistry();
const codex = profiles.get('codex');
const gemini = profiles.get('gemini');
const claude = profiles.get('claude');
const NBSP = '\u00a0';

const CODEX_FOOTER = ['', '› Ask Codex to do anything', '', '  GPT-5.5 default · /w/proj', '  ← for agents · ? for shortcuts'];
const GEMINI_INPUT = ['? for shortcuts', '─'.repeat(40), ' Shift+Tab to accept edits', '▄'.repeat(40), ' >   Type your message or @path/to/file', '▀'.repeat(40)];

function kind(profile: typeof codex, lines: string[], title = ''): string | null {
  const verdict = classifyScreen(profile, { lines, title });
  return verdict === null ? null : verdict.kind === 'dialog' ? `dialog:${verdict.dialog.id}` : verdict.kind;
}

function hook(name: string, payload: Record<string, unknown>): HookEvent {
  return { name, payload: { hook_event_name: name, ...payload }, receivedAt: 0 };
}

describe('codex profile on its screens', () => {
  it('an API error right above the input line is error, with its text; a later turn or an interrupt is not', () => {
    const error = ['› error 500', '', `■${NBSP}unexpected status 401 Unauthorized: Incorrect API key provided., url: http://127.0.0.1:1/v1/responses`, '', '', ...CODEX_FOOTER];
    const verdict = classifyScreen(codex, { lines: error, title: 'proj' });
    assert.equal(verdict?.kind, 'error');
    assert.match(verdict?.kind === 'error' ? (verdict.error ?? '') : '', /^unexpected status 401 Unauthorized/);
    const later = [...error.slice(0, 4), '› after the error', '', '• echo: after the error', '', '  Worked for <1s • 14:17', ...CODEX_FOOTER];
    assert.equal(kind(codex, later, 'proj'), 'input_ready');
    const interrupted = ['› slow 20: x', `■${NBSP}Conversation interrupted - use /feedback if something went wrong`, ...CODEX_FOOTER];
    assert.equal(kind(codex, interrupted, 'proj'), 'input_ready');
  });

  it('busy from the status line, the title spinner and a running command; not while loading', () => {
    assert.equal(kind(codex, ['› hi', '◦ Working (1s • esc to interrupt)', ...CODEX_FOOTER], 'proj'), 'busy');
    assert.equal(kind(codex, ['› hi', '• echo: partial', ...CODEX_FOOTER], '⠧ proj'), 'busy');
    assert.equal(kind(codex, ['› bash: touch x', '• Running touch x', ...CODEX_FOOTER], 'proj'), 'busy');
    assert.equal(kind(codex, ['› bash: touch x', '• Ran touch x', ...CODEX_FOOTER], 'proj'), 'input_ready');
    assert.equal(kind(codex, ['  >_ OpenAI Codex (v0.169.0)', '     loading', ...CODEX_FOOTER], 'proj'), null);
  });

  it('reads the approval and trust dialogs and their options', () => {
    const approval = [
      '• Running echo hi',
      '  Would you like to run the following command?',
      '  Environment: local',
      '  Reason: The test asks to run this command',
      '  $ echo hi',
      '› 1. Yes, proceed (y)',
      "  2. Yes, and don't ask again for commands that start with `echo hi` (p)",
      '  3. No, and tell Codex what to do differently (esc)',
      '  Press enter to confirm or esc to cancel',
    ];
    const verdict = classifyScreen(codex, { lines: approval, title: '[ ! ] Action Required | proj' });
    assert.ok(verdict?.kind === 'dialog' && verdict.dialog.id === 'permission');
    const options = dialogOptions(verdict.dialog, approval);
    assert.deepEqual(options.options.map((o) => o.label), ['Yes, proceed (y)', "Yes, and don't ask again for commands that start with `echo hi` (p)", 'No, and tell Codex what to do differently (esc)']);
    assert.equal(options.selected, 0);
    const trust = ['  Folder access', '  /w/repo', '  Trust this folder? Codex can read, edit, and run files here, subject to your permission settings.', '› 1. Trust and continue', '  2. Back to Agent Command Center', '  enter continue · esc back'];
    const trustVerdict = classifyScreen(codex, { lines: trust, title: '' });
    assert.ok(trustVerdict?.kind === 'dialog' && trustVerdict.dialog.id === 'trust');
    assert.deepEqual(dialogOptions(trustVerdict.dialog, trust).options.map((o) => o.label), ['Trust and continue', 'Back to Agent Command Center']);
  });
});

describe('gemini profile on its screens', () => {
  it('reads the boxed tool confirmation and its options; the trust dialog counts only while no input line follows it', () => {
    const box = (text: string): string => `│ ${text.padEnd(60)} │`;
    const confirm = ['╭' + '─'.repeat(62) + '╮', box('? Shell touch x'), box(''), box('Allow execution of [Shell]?'), box(''), box('● 1. Allow once'), box('  2. Allow for this session'), box('  3. No, suggest changes (esc)'), '╰' + '─'.repeat(62) + '╯'];
    const verdict = classifyScreen(gemini, { lines: confirm, title: '✋  Action Required (proj)' });
    assert.ok(verdict?.kind === 'dialog' && verdict.dialog.id === 'permission');
    const options = dialogOptions(verdict.dialog, confirm);
    assert.deepEqual(options.options.map((o) => o.label), ['Allow once', 'Allow for this session', 'No, suggest changes (esc)']);
    assert.equal(options.selected, 0);
    const trust = [box('Do you trust the files in this folder?'), box(''), box('● 1. Trust folder (proj)'), box('  2. Trust parent folder'), box("  3. Don't trust"), '╰' + '─'.repeat(62) + '╯'];
    assert.equal(kind(gemini, trust), 'dialog:trust');
    assert.equal(kind(gemini, [...trust, 'Gemini CLI is restarting to apply the trust changes...', ...GEMINI_INPUT], '◇  Ready (proj)'), 'input_ready');
  });

  it('busy while thinking or running a hook; an API error above the empty input line is error, not after a later turn', () => {
    assert.equal(kind(gemini, [' > hi', ' ⠏ Thinking... (esc to cancel, 0s)', ...GEMINI_INPUT], '◇  Ready (proj)'), 'busy');
    assert.equal(kind(gemini, [' > hi', " ⠼ Executing Hook: '/usr/bin/curl' -s", ...GEMINI_INPUT], '◇  Ready (proj)'), 'busy');
    const error = [' > hello', '✕ [API Error: {"error":{"code":400,"message":"API key not valid. Please pass a valid API', '  key."}}]', ...GEMINI_INPUT];
    const verdict = classifyScreen(gemini, { lines: error, title: '◇  Ready (proj)' });
    assert.equal(verdict?.kind, 'error');
    assert.match(verdict?.kind === 'error' ? (verdict.error ?? '') : '', /API key not valid/);
    const later = [...error.slice(0, 3), '▄'.repeat(40), ' > after the error', '▀'.repeat(40), '✦ echo: after the error', ...GEMINI_INPUT];
    assert.equal(kind(gemini, later, '◇  Ready (proj)'), 'input_ready');
  });
});

describe('hook rules in the profiles', () => {
  it('codex: a turn-complete notify ends the turn with its reply, except the title thread', () => {
    const turn = { type: 'agent-turn-complete', 'input-messages': ['hello'], 'last-assistant-message': 'echo: hello' };
    assert.equal(matchHookRule(codex.agent?.hooks?.rules ?? [], { name: 'agent-turn-complete', payload: turn, receivedAt: 0 })?.action, 'turn_end');
    const title = { ...turn, 'input-messages': ['Generate a concise, single-line task title of at most 36 characters'] };
    assert.equal(matchHookRule(codex.agent?.hooks?.rules ?? [], { name: 'agent-turn-complete', payload: title, receivedAt: 0 }), undefined);
  });

  it('gemini: AfterAgent with a reply ends the turn; the "[no response text]" of a failed turn does not; ToolPermission announces', () => {
    const rules = gemini.agent?.hooks?.rules ?? [];
    assert.equal(matchHookRule(rules, hook('AfterAgent', { prompt_response: 'echo: hi' }))?.reply, 'prompt_response');
    assert.equal(matchHookRule(rules, hook('AfterAgent', { prompt_response: '[no response text]' })), undefined);
    assert.equal(matchHookRule(rules, hook('Notification', { notification_type: 'ToolPermission' }))?.action, 'permission');
    assert.equal(matchHookRule(rules, hook('Notification', { notification_type: 'Other' })), undefined);
    assert.equal(matchHookRule(rules, hook('BeforeAgent', { prompt: 'hi' }))?.action, 'turn_start');
  });

  it('claude: PermissionRequest announces, Stop and StopFailure end the turn, the late permission Notification is ignored', () => {
    const rules = claude.agent?.hooks?.rules ?? [];
    assert.equal(matchHookRule(rules, hook('PermissionRequest', { tool_name: 'Bash' }))?.action, 'permission');
    assert.equal(matchHookRule(rules, hook('Stop', { last_assistant_message: 'x' }))?.action, 'turn_end');
    assert.equal(matchHookRule(rules, hook('StopFailure', { error: 'server_error' }))?.action, 'turn_failed');
    assert.equal(matchHookRule(rules, hook('Notification', { notification_type: 'permission_prompt' })), undefined);
  });
});
