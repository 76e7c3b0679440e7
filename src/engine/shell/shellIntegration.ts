// Injects shell integration at spawn: writes the rc files a session owns (under its data dir) and changes argv
// and env so bash, zsh and sh/dash print prompt, command and exit marks with the session's nonce. The user's own
// rc still loads where it normally would. It never touches the user's files and never exports the nonce.

import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export type IntegratedShell = 'bash' | 'zsh' | 'sh';

export interface ShellIntegration {
  shell: IntegratedShell;
  /** Random per session: only the shell (through its rc file, mode 0600) knows it. */
  nonce: string;
  /** True when the shell reports command start (C); sh/dash only mark prompts, so exec infers the start. */
  marksCommandStart: boolean;
  /** True when the shell's line editor takes bracketed paste (a multi-line command is one accepted line). */
  bracketedPaste: boolean;
}

export interface PreparedShell {
  integration: ShellIntegration;
  argv: string[];
  /** Set by Corral itself (the `internal` env of buildChildEnv): ZDOTDIR, ENV. */
  env: Record<string, string>;
}

/** Which integration a shell executable gets, by its name; null for shells we cannot integrate (fish, ssh…). */
function shellKindOf(executable: string): IntegratedShell | null {
  const name = basename(executable).replace(/^-/, '');
  if (name === 'bash') return 'bash';
  if (name === 'zsh') return 'zsh';
  if (name === 'sh' || name === 'dash' || name === 'ash') return 'sh';
  return null;
}

function newNonce(): string {
  // 96 bits: enough that no output guesses it; hex keeps it free of shell metacharacters.
  return randomBytes(12).toString('hex');
}

/**
 * Prepares integration for `argv` in `dir` (created 0700, files 0600). Returns null when argv is not a shell we
 * know, or asks for something integration would break (`-c`: a one-shot command, no prompt ever).
 */
function prepareShellIntegration(
  dir: string,
  argv: readonly string[],
  callerEnv: Readonly<Record<string, string>>,
  nonce = newNonce(),
): PreparedShell | null {
  const [file, ...args] = argv;
  if (file === undefined) return null;
  const shell = shellKindOf(file);
  if (shell === null || args.includes('-c')) return null;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  switch (shell) {
    case 'bash': {
      const rc = write('bashrc', bashRc(nonce));
      // Long options must come before bash's single-letter ones.
      return {
        integration: { shell, nonce, marksCommandStart: true, bracketedPaste: true },
        argv: [file, '--rcfile', rc, ...args],
        env: {},
      };
    }
    case 'zsh': {
      const userZdotdir = callerEnv.ZDOTDIR;
      write('.zshenv', zshEnv(dir, userZdotdir));
      write('.zprofile', zshStage(dir, '.zprofile'));
      write('.zshrc', zshRc(nonce));
      return { integration: { shell, nonce, marksCommandStart: true, bracketedPaste: true }, argv: [...argv], env: { ZDOTDIR: dir } };
    }
    case 'sh': {
      const env = write('env.sh', shEnv(nonce, callerEnv.ENV));
      return { integration: { shell, nonce, marksCommandStart: false, bracketedPaste: false }, argv: [...argv], env: { ENV: env } };
    }
  }
}

/** Single-quotes a value for any POSIX shell. */
function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

// The cwd is escaped so that no byte of a path can end or fake a mark: `\` → `\\`, `;` BEL ESC LF → `\xNN`.
const ESCAPE_CWD = `p=\${PWD//\\\\/\\\\\\\\}; p=\${p//;/\\\\x3b}; p=\${p//$'\\a'/\\\\x07}; p=\${p//$'\\e'/\\\\x1b}; p=\${p//$'\\n'/\\\\x0a}`;

const PRECMD_BODY = `  local s=$? p
  ${ESCAPE_CWD}
  builtin printf '\\033]633;%s;D;%s\\007\\033]633;%s;P;Cwd=%s\\007\\033]633;%s;A\\007' "$__corral_nonce" "$s" "$__corral_nonce" "$p" "$__corral_nonce"
  return $s`;

function bashRc(nonce: string): string {
  return `# Corral shell integration for one session (generated; removed with the session's data).
# The user's startup files first, as an interactive bash would read them.
if [ -f /etc/bash.bashrc ]; then . /etc/bash.bashrc; fi
if [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi
__corral_nonce=${q(nonce)}
__corral_precmd() {
${PRECMD_BODY}
}
# First in PROMPT_COMMAND, so $? is still the command's status; it returns that status for whatever follows.
if [[ \${PROMPT_COMMAND@a} == *a* ]]; then
  PROMPT_COMMAND=(__corral_precmd "\${PROMPT_COMMAND[@]}")
else
  PROMPT_COMMAND="__corral_precmd\${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
fi
# PS0 is printed after a command line is read, before it runs: the command-start mark, after the user's PS0.
PS0="\${PS0}"$'\\e]633;'"\${__corral_nonce}"$';C\\a'
# A multi-line command written by exec arrives as one paste, so it runs as one command line.
bind 'set enable-bracketed-paste on' 2>/dev/null
`;
}

function zshEnv(dir: string, userZdotdir: string | undefined): string {
  return `# Corral shell integration (generated): the user's .zshenv from where zsh would have read it.
__corral_zdotdir=${userZdotdir === undefined ? '"$HOME"' : q(userZdotdir)}
__corral_had_zdotdir=${userZdotdir === undefined ? 0 : 1}
ZDOTDIR=$__corral_zdotdir
[[ -f $ZDOTDIR/.zshenv ]] && builtin source $ZDOTDIR/.zshenv
__corral_zdotdir=$ZDOTDIR
ZDOTDIR=${q(dir)}
`;
}

function zshStage(dir: string, name: string): string {
  return `ZDOTDIR=$__corral_zdotdir
[[ -f $ZDOTDIR/${name} ]] && builtin source $ZDOTDIR/${name}
__corral_zdotdir=$ZDOTDIR
ZDOTDIR=${q(dir)}
`;
}

function zshRc(nonce: string): string {
  return `# Corral shell integration (generated): the user's .zshrc, then the marks.
ZDOTDIR=$__corral_zdotdir
[[ -f $ZDOTDIR/.zshrc ]] && builtin source $ZDOTDIR/.zshrc
# Later files (.zlogin) are read from the user's ZDOTDIR, or HOME when none was set.
(( __corral_had_zdotdir )) || unset ZDOTDIR
unset __corral_zdotdir __corral_had_zdotdir
__corral_nonce=${q(nonce)}
__corral_precmd() {
${PRECMD_BODY}
}
__corral_preexec() { builtin printf '\\033]633;%s;C\\007' "$__corral_nonce"; }
# First among precmd hooks (so $? is the command's), last among preexec hooks (their output is not the command's).
precmd_functions=(__corral_precmd $precmd_functions)
preexec_functions+=(__corral_preexec)
`;
}

function shEnv(nonce: string, userEnv: string | undefined): string {
  // sh/dash have no pre-exec hook: PS1 marks the previous command's end (its $? and $PWD are expanded at each
  // prompt), the prompt's start and end; PS2 marks continuation prompts, so exec can count lines consumed.
  // ESC and BEL are written as bytes, not as `$(printf …)`: that is a fork per byte at every start.
  return `# Corral shell integration for sh/dash (generated).
# ENV named this file. Give it back: a nested interactive sh reads the user's ENV, never this session's marks
# (it would print them with our nonce and end an exec early).
${userEnv === undefined ? 'unset ENV' : `ENV=${q(userEnv)}; export ENV
# The user's own rc, which ENV would have named.
if [ -r "$ENV" ]; then . "$ENV"; fi`}
__corral_e='\x1b'
__corral_b='\x07'
__corral_m="\${__corral_e}]633;${nonce};"
__corral_ps1=\${PS1:-'$ '}
__corral_ps2=\${PS2:-'> '}
PS1="\${__corral_m}D;\\$?\${__corral_b}\${__corral_m}P;Cwd=\\$PWD\${__corral_b}\${__corral_m}A\${__corral_b}\${__corral_ps1}\${__corral_m}B\${__corral_b}"
PS2="\${__corral_m}F\${__corral_b}\${__corral_ps2}\${__corral_m}B\${__corral_b}"
unset __corral_e __corral_b __corral_m __corral_ps1 __corral_ps2
`;
}

/** What the session manager changes at spawn: argv and env with integration, or unchanged where none applies. */
export function integrateShellAtSpawn(options: {
  dir: string;
  stateDetection: string;
  kind: 'pty' | 'pipe';
  argv: string[];
  callerEnv: Readonly<Record<string, string>>;
}): { argv: string[]; env: Record<string, string>; integration?: ShellIntegration } {
  // Marks need a prompt, and prompts need a terminal: pipe sessions and other rules run the argv as given.
  if (options.stateDetection !== 'shell-integration' || options.kind !== 'pty') return { argv: options.argv, env: {} };
  const prepared = prepareShellIntegration(options.dir, options.argv, options.callerEnv);
  if (prepared === null) return { argv: options.argv, env: {} };
  return { argv: prepared.argv, env: prepared.env, integration: prepared.integration };
}
