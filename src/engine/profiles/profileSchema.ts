// The profile format: what Corral knows about a program, as validated data (PRODUCT §1.4).
// Unknown keys and patterns that do not compile are load errors, never silently ignored.

import { z } from 'zod';
import { keyToBytes } from '../../protocol/keys.js';
import { sandboxRequestSchema } from '../../protocol/api.js';

const keyName = z.string().refine((name) => keyToBytes(name) !== undefined, { message: 'unknown key name' });

/** A regular expression given as a string; checked to compile at load. Flags may follow in `flags`. */
const pattern = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source, 'u');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `pattern does not compile: ${(error as Error).message}` });
    }
  });

const dialogSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_-]*$/),
    description: z.string(),
    /** All must match the rendered screen. */
    match: z.array(pattern).min(1),
    /** The state the session is in while this dialog shows. */
    state: z.enum(['waiting_input', 'authenticating']),
    /** Keys that answer it positively when auto-answered (opt-in per session). */
    accept: z.array(keyName).optional(),
    /**
     * Where the dialog's options are on the screen: the lines strictly between the first line matching `after`
     * and the next line matching `before`; the selected one carries `selectedMark`. `select` says how a choice is
     * made: `arrows` (Up/Down to it, then Enter) or `number` (type its number, no Enter).
     */
    options: z
      .object({
        after: pattern,
        before: pattern,
        selectedMark: z.string().min(1).default('❯'),
        select: z.enum(['arrows', 'number']),
        /** Only numbered lines are options (the dialog shows other lines between `after` and `before`). */
        numberedOnly: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /** The option chosen when the session opted in to auto-answering this dialog (by id or `tool:<Name>`). */
    autoChoice: z.string().min(1).optional(),
    /** How long the dialog must have been on screen before it takes keys (and is reported); default 300 ms. */
    keyGuardMs: z.number().int().min(0).max(10_000).optional(),
    /** A pattern whose first group names the tool a permission dialog asks about (for `tool:<Name>` opt-ins). */
    toolPattern: pattern.optional(),
    /** The line that holds the dialog's question (default: the first `match` pattern's line). */
    question: pattern.optional(),
  })
  .strict();

/**
 * What one hook event means (first matching rule wins). `when` / `unless` test payload fields (stringified, JSON for
 * non-strings) against patterns. Actions: `turn_start` (busy), `tool` (busy if the turn looked over), `tool_done`
 * (busy, the pending tool is cleared), `permission` (announces a dialog: the state waits for the screen to show it),
 * `turn_end` (idle; `reply` names the field with the turn's reply), `turn_failed` (error; `error` names the field
 * with the error kind), `ignore`. `turnId` and `prompt` tie a turn's end to its start (turnLedger.ts): an end that
 * belongs to an earlier turn than the latest neither ends the turn running now nor answers its prompt.
 */
const hookRuleSchema = z
  .object({
    event: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/),
    when: z.record(z.string(), pattern).optional(),
    unless: z.record(z.string(), pattern).optional(),
    action: z.enum(['turn_start', 'tool', 'tool_done', 'permission', 'turn_end', 'turn_failed', 'ignore']),
    reply: z.string().min(1).optional(),
    error: z.string().min(1).optional(),
    tool: z.string().min(1).optional(),
    /** turn_start / turn_end / turn_failed: the field with the CLI's id for the turn (the same in its start and end). */
    turnId: z.string().min(1).optional(),
    /** turn_start / turn_end / turn_failed: the field with the turn's prompt (a string, or a list whose last is this turn's). */
    prompt: z.string().min(1).optional(),
  })
  .strict();

/**
 * A file written into an isolated HOME before the CLI starts. Placeholders, JSON-escaped: `${cwd}` (the session's
 * real cwd), `${authToken.slice(-N)}` (the last N characters of the session's auth token; Claude Code remembers an
 * approved key by its last 20).
 */
const homeFileSchema = z
  .object({
    path: z.string().regex(/^[A-Za-z0-9._-][A-Za-z0-9._/-]*$/).refine((path) => !path.split('/').includes('..'), { message: 'no .. in a home file path' }),
    content: z.string(),
    /** Only when the caller asked for `preAnswer` (trust and first-run questions answered beforehand). */
    preAnswerOnly: z.boolean().default(false),
    /** Added to the end of the file an earlier entry wrote (a TOML table, say) instead of replacing it. */
    append: z.boolean().default(false),
  })
  .strict();

/** Agent CLIs: hooks, auth token variable, transcript and self-check (PRODUCT §1.4). */
const agentSchema = z
  .object({
    /**
     * How the CLI is told to run Corral's hook command: `claude-settings` (a settings file passed with
     * `settingsFlag`, Claude's format), `home-settings` (merged into the JSON file `settingsFile` of an isolated
     * HOME, same format plus `hooksConfig.enabled`; Gemini CLI), `notify-arg` (a `notify` program whose one argument
     * is the JSON payload, passed as `-c notify=[…]`; Codex CLI). `rules` say what each event means.
     */
    hooks: z
      .object({
        format: z.enum(['claude-settings', 'home-settings', 'notify-arg']).default('claude-settings'),
        settingsFlag: z.string().min(1).optional(),
        settingsFile: z.string().min(1).optional(),
        events: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/)).min(1),
        rules: z.array(hookRuleSchema).default([]),
        /**
         * More hooks in the CLI's own config format, given on its command line (Codex: `-c hooks.<Event>=[…]`), for
         * events `format` does not carry (Codex's notify has no turn start). Codex runs such a hook only once it is
         * trusted: Corral writes the trust (`[hooks.state."<trustKey>"] trusted_hash`, Codex's hash of the hook)
         * into `trustFile` of the isolated HOME. Without an isolated HOME they are left out (the CLI would ask).
         */
        flagHooks: z
          .object({
            events: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/)).min(1),
            trustFile: z.string().min(1),
            /** `${event}` is the event in snake_case (UserPromptSubmit → user_prompt_submit). */
            trustKey: z.string().min(1),
          })
          .strict()
          .optional(),
      })
      .strict()
      .superRefine((hooks, ctx) => {
        if (hooks.format === 'claude-settings' && hooks.settingsFlag === undefined) ctx.addIssue({ code: 'custom', message: 'claude-settings hooks need settingsFlag' });
        if (hooks.format === 'home-settings' && hooks.settingsFile === undefined) ctx.addIssue({ code: 'custom', message: 'home-settings hooks need settingsFile' });
      })
      .optional(),
    /** The variable an `authToken` is passed in (marked secret). */
    authTokenEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
    /** Files an isolated HOME starts with (onboarding done, offline-friendly config, pre-answered questions). */
    homeFiles: z.array(homeFileSchema).default([]),
    /**
     * Where the turn's reply can be read besides hooks and the screen: the CLI's JSONL transcript (the hook's
     * `transcript_path`, else the newest `*.jsonl` in `dir` under HOME; `${cwdSlug}` is the cwd with every
     * non-alphanumeric as `-`). One JSON object per line with `type` and `message.content`; the reply is the text of
     * the `replyType` lines after the last `promptType` line whose content is a string (what was typed).
     */
    transcript: z
      .object({
        dir: z.string().min(1).optional(),
        promptType: z.string().min(1),
        replyType: z.string().min(1),
      })
      .strict()
      .optional(),
    /** busy → idle on the screen's word alone waits for the frame to hold this long (a CLI whose turn has idle-looking gaps needs more). */
    idleSettleMs: z.number().int().min(0).max(10_000).default(120),
    /**
     * How the CLI reports its version, checked against `verifiedVersions` (a session with another version says so in
     * its info): `args` run with the session's program and environment, the first group of `pattern` is the version.
     */
    version: z
      .object({
        args: z.array(z.string()).min(1).default(['--version']),
        pattern: pattern.default('(\\d+\\.\\d+\\.\\d+[\\w.+-]*)'),
      })
      .strict()
      .default({ args: ['--version'], pattern: '(\\d+\\.\\d+\\.\\d+[\\w.+-]*)' }),
    /** Nothing known on the screen for this long means the profile does not fit the program (`profile_mismatch`). */
    selfCheckMs: z.number().int().min(1000).max(3_600_000).default(30_000),
    /** Screen text of a turn's reply: lines starting with this mark after the echoed prompt. */
    replyMark: z.string().min(1).optional(),
    /** The echoed prompt in the history starts with this. */
    promptMark: z.string().min(1).optional(),
  })
  .strict();

export const profileSchema = z
  .object({
    name: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/),
    description: z.string(),
    kind: z.enum(['pty', 'pipe']).default('pty'),
    /** Default argv. `${SHELL}` is replaced by the user's shell. Empty: the caller must give a command. */
    command: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    /**
     * Where states come from: `process` (busy while running), `quiet` (output then a quiet period means idle),
     * `shell-integration` (prompt marks from the shell), `agent` (screen patterns, title and hooks of an agent CLI).
     */
    stateDetection: z.enum(['process', 'quiet', 'shell-integration', 'agent']),
    /** Quiet period that ends `busy` under the `quiet` rule. */
    quietMs: z.number().int().min(50).max(60_000).default(500),
    input: z
      .object({
        /** Keys pressed after a prompt's text to submit it. */
        submit: z.array(keyName).default(['Enter']),
        /** Between a prompt's pasted text and its submit key: sooner and the CLI takes the key as part of the paste. */
        submitDelayMs: z.number().int().min(0).max(5000).default(150),
        /** A prompt that shows no turn this long after its submit key gets the key once more (0: never). */
        resubmitAfterMs: z.number().int().min(0).max(60_000).default(0),
        /** At startup the input line must hold this long before `ready`: some CLIs draw it before they take keys. */
        readySettleMs: z.number().int().min(0).max(10_000).default(0),
        interrupt: z.array(keyName).default(['C-c']),
        /** The polite way to ask the program to exit, before any signal. */
        exit: z
          .object({ text: z.string().optional(), keys: z.array(keyName).default([]) })
          .strict()
          .optional(),
        bracketedPaste: z.boolean().default(false),
        /**
         * `ready` waits (bounded) until the program turned bracketed paste on: a CLI that enables it in the same tick
         * as it starts reading keys (Gemini CLI) says so exactly, where its input line can be drawn seconds before.
         */
        readyAwaitsPasteMode: z.boolean().default(false),
      })
      .strict()
      .default({ submit: ['Enter'], submitDelayMs: 150, resubmitAfterMs: 0, readySettleMs: 0, interrupt: ['C-c'], bracketedPaste: false, readyAwaitsPasteMode: false }),
    screen: z
      .object({
        busy: z.array(pattern).default([]),
        idle: z.array(pattern).default([]),
        error: z.array(pattern).default([]),
        authenticating: z.array(pattern).default([]),
        waitingInput: z.array(pattern).default([]),
        titleBusy: z.array(pattern).default([]),
        titleIdle: z.array(pattern).default([]),
        /** The program's input line is on screen (it can take a prompt). */
        inputReady: z.array(pattern).default([]),
        /** The input line is drawn but the program is still starting (Codex's header says `loading`): not ready yet. */
        notReady: z.array(pattern).default([]),
        /** A finished turn's error, shown until the next prompt; the first group is recorded as the error. */
        turnError: z.array(pattern).default([]),
      })
      .strict()
      .optional(),
    dialogs: z.array(dialogSchema).default([]),
    agent: agentSchema.optional(),
    /**
     * The sandbox sessions of this profile run in unless the request says otherwise (PRODUCT §1.9): a policy object
     * (`{}` for the defaults) or `"none"`. Absent: no sandbox unless the request asks for one. Agent profiles set it.
     */
    sandbox: sandboxRequestSchema.optional(),
    /** Sessions of this profile get a CORRAL_TOKEN scoped to their own session and task unless the request says no. */
    scopedToken: z.boolean().default(false),
    /** Versions of the program this profile was checked against. */
    verifiedVersions: z.array(z.string()).default([]),
  })
  .strict();

export type Profile = z.infer<typeof profileSchema>;
export type ProfileDialog = z.infer<typeof dialogSchema>;
export type HookRule = z.infer<typeof hookRuleSchema>;
