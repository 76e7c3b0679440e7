// Builds a session's environment: an allowlist of the daemon's own variables plus the caller's explicit values.
// The daemon's token and the rest of its environment never reach a session; loader and hook variables that
// would run code inside every child (LD_PRELOAD, NODE_OPTIONS, BASH_ENV, …) are refused unless configured.

import { CorralError } from '../../protocol/errors.js';

/**
 * Variables copied from the daemon's environment when set: what programs need to behave as they do in the user's
 * own shell (README "Environment"). None of them makes a program run code it would not run anyway: an editor or a
 * pager is only started when a program asks for one; LESSOPEN/LESSCLOSE, which make `less` run a command on every
 * file, are left out on purpose. A name listed here must never match REFUSED_ENV (a test checks).
 */
export const INHERITED_ENV = [
  // Who and where.
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR',
  // Locale and time (and every LC_*, below).
  'LANG', 'LANGUAGE', 'TZ',
  // git and ssh over an agent: the agent's socket, not its keys.
  'SSH_AUTH_SOCK', 'SSH_AGENT_PID', 'GIT_AUTHOR_NAME', 'GIT_AUTHOR_EMAIL', 'GIT_COMMITTER_NAME', 'GIT_COMMITTER_EMAIL',
  'GNUPGHOME',
  // The terminal's description and colour preferences (TERM and COLORTERM of a terminal session are Corral's own).
  'TERMINFO', 'TERMINFO_DIRS', 'NO_COLOR', 'CLICOLOR',
  // Editors and pagers a program opens on request (git commit, crontab -e, man).
  'EDITOR', 'VISUAL', 'PAGER',
  // Per-user directories (configuration, caches, the runtime dir that dbus, podman and ssh-agent sockets live in).
  'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'XDG_STATE_HOME', 'XDG_RUNTIME_DIR',
  // A desktop session, for programs that open a browser to log in.
  'DISPLAY', 'WAYLAND_DISPLAY', 'DBUS_SESSION_BUS_ADDRESS',
  // Network: proxies and extra certificate authorities, as corporate networks need them.
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
  'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE',
] as const;
export const INHERITED_PREFIXES = ['LC_'];

/**
 * Variables that make the dynamic loader, an interpreter, a shell or git run code the caller chose in a child on
 * their own, whatever program the session runs (at start-up or on a hook), grouped by who reads them. Where a
 * program finds its own configuration (HOME, zsh's ZDOTDIR, a repo's .git/config) stays the caller's to choose, as
 * users rely on it; the boundary for those files is the user the daemon runs as and the workspace roots.
 */
const REFUSED_ENV: readonly RegExp[] = [
  // The dynamic loader and the C library.
  /^LD_/,
  /^DYLD_/,
  /^GCONV_PATH$/,
  /^GLIBC_TUNABLES$/,
  /^OPENSSL_(CONF|ENGINES|MODULES)$/,
  // Shells: start-up files, exported functions, prompt and trace hooks, option sets.
  /^BASH_ENV$/,
  /^ENV$/,
  /^BASH_FUNC_/,
  /^PROMPT_COMMAND$/,
  /^PS0$/,
  /^PS4$/,
  /^SHELLOPTS$/,
  /^BASHOPTS$/,
  /^IFS$/,
  // Interpreters and runtimes: module paths, start-up scripts, injected options.
  /^NODE_OPTIONS$/,
  /^NODE_PATH$/,
  /^NODE_REPL_EXTERNAL_MODULE$/,
  /^PERL5?(OPT|LIB|DB)$/,
  /^PERLLIB$/,
  /^PYTHON(STARTUP|PATH|HOME|USERBASE|BREAKPOINT|PLATLIBDIR)$/,
  /^RUBY(OPT|LIB)$/,
  /^LUA_(INIT|PATH|CPATH)/,
  /^(JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|JDK_JAVA_OPTIONS)$/,
  // git: configuration by environment (core.fsmonitor, hooks, aliases) and the programs it runs.
  /^GIT_CONFIG/,
  /^GIT_(EXEC_PATH|SSH|SSH_COMMAND|PROXY_COMMAND|ASKPASS|EXTERNAL_DIFF|TEMPLATE_DIR)$/,
  /^(SSH|SUDO)_ASKPASS$/,
  // Corral's own (session id, hook socket): set by Corral only.
  /^CORRAL_/,
];

/** Bounds on what a caller may set: far above any real environment, far below what would hurt the daemon. */
const MAX_ENV_VARS = 256;
const MAX_ENV_VALUE_BYTES = 32 * 1024;
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ChildEnvOptions {
  daemonEnv: NodeJS.ProcessEnv;
  /** The caller's explicit values (already merged with the profile's). */
  explicit: Record<string, string>;
  /** Names the operator allowed despite REFUSED_ENV (config `allowEnv`). */
  allowed: readonly string[];
  /** Set by Corral itself after validation (TERM, CORRAL_SESSION_ID, …); never refused. */
  internal: Record<string, string>;
}

export function validateExplicitEnv(explicit: Record<string, string>, allowed: readonly string[]): void {
  const names = Object.keys(explicit);
  if (names.length > MAX_ENV_VARS) {
    throw new CorralError('VALIDATION_FAILED', `Too many environment variables (${names.length} > ${MAX_ENV_VARS}).`);
  }
  for (const name of names) {
    const value = explicit[name] ?? '';
    if (!NAME_PATTERN.test(name)) {
      throw new CorralError('VALIDATION_FAILED', `Invalid environment variable name "${name}".`, { details: { name } });
    }
    if (value.includes('\0')) {
      throw new CorralError('VALIDATION_FAILED', `Environment variable ${name} contains a NUL byte.`, { details: { name } });
    }
    if (Buffer.byteLength(value) > MAX_ENV_VALUE_BYTES) {
      throw new CorralError('VALIDATION_FAILED', `Environment variable ${name} is longer than ${MAX_ENV_VALUE_BYTES} bytes.`);
    }
    if (REFUSED_ENV.some((pattern) => pattern.test(name)) && !allowed.includes(name)) {
      throw new CorralError(
        'ENV_NOT_ALLOWED',
        `Environment variable ${name} is refused: it can inject code into every child process. ` +
          'An operator can allow it with the daemon option --allow-env.',
        { details: { name } },
      );
    }
  }
}

export function buildChildEnv(options: ChildEnvOptions): Record<string, string> {
  validateExplicitEnv(options.explicit, options.allowed);
  return { ...inheritedEnv(options.daemonEnv), ...options.explicit, ...options.internal };
}

/**
 * The allowlisted part of the daemon's environment (also what Corral's own helper processes, such as git for task
 * worktrees, run with), computed once per environment object: reading process.env
 * goes through the C++ environment on every access, which made this the costliest step of building a session.
 * The daemon never edits its own environment after start, so the first look stays true.
 */
const inheritedCache = new WeakMap<object, Readonly<Record<string, string>>>();

export function inheritedEnv(daemonEnv: NodeJS.ProcessEnv): Readonly<Record<string, string>> {
  const cached = inheritedCache.get(daemonEnv);
  if (cached !== undefined) return cached;
  const env: Record<string, string> = {};
  for (const name of Object.keys(daemonEnv)) {
    const value = daemonEnv[name];
    if (value === undefined) continue;
    const inherited =
      (INHERITED_ENV as readonly string[]).includes(name) || INHERITED_PREFIXES.some((prefix) => name.startsWith(prefix));
    if (inherited) env[name] = value;
  }
  inheritedCache.set(daemonEnv, env);
  return env;
}
