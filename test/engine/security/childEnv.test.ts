// The child environment rules of PRODUCT §3: loader and hook variables of every family are refused unless the
// operator allowed them, ordinary variables (including the harmless members of those families) pass.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildChildEnv, INHERITED_ENV, inheritedEnv, validateExplicitEnv } from '../../../src/engine/security/childEnv.js';
import { isCorralError } from '../../../src/protocol/errors.js';

/** Each one makes some loader, interpreter, shell or git run code of the caller's choosing. */
const INJECTING = [
  'LD_PRELOAD', 'LD_LIBRARY_PATH', 'GCONV_PATH', 'GLIBC_TUNABLES', 'OPENSSL_CONF', 'OPENSSL_ENGINES',
  'BASH_ENV', 'ENV', 'BASH_FUNC_ls%%', 'PROMPT_COMMAND', 'PS0', 'PS4', 'SHELLOPTS', 'BASHOPTS', 'IFS',
  'NODE_OPTIONS', 'NODE_PATH', 'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'PERL5DB', 'PYTHONSTARTUP', 'PYTHONPATH',
  'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONBREAKPOINT', 'RUBYOPT', 'RUBYLIB', 'LUA_INIT', 'LUA_PATH_5_4',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0',
  'GIT_CONFIG_GLOBAL', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'GIT_ASKPASS', 'SSH_ASKPASS', 'CORRAL_SESSION_ID',
].filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));

/** Ordinary, often needed, and in no way a code hook. */
const ORDINARY = ['ZDOTDIR', 'PYTHONUNBUFFERED', 'PYTHONIOENCODING', 'GIT_AUTHOR_NAME', 'GIT_COMMITTER_EMAIL', 'GIT_TERMINAL_PROMPT', 'PS1', 'NODE_ENV', 'RUST_LOG', 'EDITOR'];

function refusal(name: string, allowed: string[] = []): string | null {
  try {
    validateExplicitEnv({ [name]: 'x' }, allowed);
    return null;
  } catch (error) {
    assert.ok(isCorralError(error), String(error));
    return error.code;
  }
}

test('every family of loader and hook variables is refused with ENV_NOT_ALLOWED', () => {
  const passed = INJECTING.filter((name) => refusal(name) !== 'ENV_NOT_ALLOWED');
  assert.deepEqual(passed, []);
});

test('ordinary variables, including harmless ones sharing a prefix with refused ones, are accepted', () => {
  assert.deepEqual(ORDINARY.filter((name) => refusal(name) !== null), []);
});

test('an operator allowance lets one refused name through, and only that one', () => {
  assert.equal(refusal('PYTHONPATH', ['PYTHONPATH']), null);
  assert.equal(refusal('PYTHONHOME', ['PYTHONPATH']), 'ENV_NOT_ALLOWED');
  const env = buildChildEnv({ daemonEnv: { PATH: '/bin', SECRET: 's' }, explicit: { PYTHONPATH: '/w' }, allowed: ['PYTHONPATH'], internal: {} });
  assert.deepEqual(env, { PATH: '/bin', PYTHONPATH: '/w' });
});

test('sessions inherit what daily use needs (ssh agent, locale, editor, terminal, proxies), never a hook variable', () => {
  const daemonEnv: NodeJS.ProcessEnv = {
    SSH_AUTH_SOCK: '/run/user/1000/ssh-agent.sock',
    LANG: 'de_DE.UTF-8',
    LC_ALL: 'de_DE.UTF-8',
    LC_TIME: 'en_GB.UTF-8',
    TZ: 'Europe/Berlin',
    EDITOR: 'vim',
    VISUAL: 'vim',
    TERMINFO_DIRS: '/usr/share/terminfo',
    XDG_RUNTIME_DIR: '/run/user/1000',
    HTTPS_PROXY: 'http://proxy:3128',
    GIT_AUTHOR_NAME: 'Dev',
    // Never inherited: loader and hook variables, the daemon's own, and anything not on the list.
    LD_PRELOAD: '/evil.so',
    DYLD_INSERT_LIBRARIES: '/evil.dylib',
    BASH_ENV: '/evil.sh',
    ENV: '/evil.sh',
    PROMPT_COMMAND: 'evil',
    NODE_OPTIONS: '--require /evil.js',
    LESSOPEN: '|evil %s',
    CORRAL_TOKEN: 'secret',
    AWS_SECRET_ACCESS_KEY: 'secret',
  };
  const inherited = inheritedEnv(daemonEnv);
  assert.deepEqual(Object.keys(inherited).sort(), [
    'EDITOR', 'GIT_AUTHOR_NAME', 'HTTPS_PROXY', 'LANG', 'LC_ALL', 'LC_TIME', 'SSH_AUTH_SOCK', 'TERMINFO_DIRS', 'TZ',
    'VISUAL', 'XDG_RUNTIME_DIR',
  ]);
});

test('no inherited name is one a caller would be refused', () => {
  assert.deepEqual(INHERITED_ENV.filter((name) => refusal(name) !== null), []);
});
