// Checks a template when it is saved, so a mistake shows where it was made rather than at the first session made
// from it: the profile exists, the cwd lies under a root, the env names are allowed, secretEnv names are in env, and
// the command is an executable (with a `#!` line that names one). It starts nothing and writes nothing; what only a
// full create request decides (a command the request will give, agent options) is left to create.

import type { TemplateBody } from '../../protocol/api.js';
import { CorralError } from '../../protocol/errors.js';
import type { ProfileRegistry } from '../profiles/ProfileRegistry.js';
import { inheritedEnv, validateExplicitEnv } from '../security/childEnv.js';
import type { CwdPolicy } from '../security/cwdPolicy.js';
import { checkInterpreter, resolveExecutable } from '../sessionSpec.js';

export interface TemplateCheckContext {
  profiles: ProfileRegistry;
  cwdPolicy: CwdPolicy;
  /** Refused-by-default env names the operator allows. */
  allowEnv: readonly string[];
}

export function checkTemplate(context: TemplateCheckContext, name: string, body: TemplateBody): void {
  try {
    const profile = body.profile === undefined ? undefined : context.profiles.get(body.profile);
    const cwd = context.cwdPolicy.resolve(body.cwd);
    const env = { ...profile?.env, ...body.env };
    validateExplicitEnv(env, context.allowEnv);
    for (const secret of body.secretEnv ?? []) {
      if (!(secret in env)) throw new CorralError('VALIDATION_FAILED', `secretEnv names ${secret}, which is not in env.`, { details: { name: secret } });
    }
    const file = body.command?.[0];
    if (file !== undefined && file !== '${SHELL}') {
      const path = env.PATH ?? inheritedEnv(process.env).PATH ?? '';
      checkInterpreter(resolveExecutable(file, path, cwd));
    }
  } catch (error) {
    if (!(error instanceof CorralError)) throw error;
    throw new CorralError(error.code, `Template "${name}" was not saved: ${error.message}`, { details: error.details, cause: error });
  }
}
