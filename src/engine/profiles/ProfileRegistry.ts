// Loads profiles: the built-in ones shipped in profiles/ and user ones from the config dir. A file that does
// not validate is a load error naming the file and the problem; nothing is half-loaded.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CorralError } from '../../protocol/errors.js';
import { profileSchema, type Profile } from './profileSchema.js';

/** profiles/ at the repository (or package) root: three levels above this file in src/ and in dist/. */
const BUILTIN_PROFILE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'profiles');

class ProfileLoadError extends Error {}

export function parseProfile(source: string, text: string): Profile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProfileLoadError(`${source}: not valid JSON: ${(error as Error).message}`);
  }
  const result = profileSchema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ProfileLoadError(`${source}: invalid profile: ${problems.join('; ')}`);
  }
  return result.data;
}

export class ProfileRegistry {
  private readonly profiles = new Map<string, Profile>();

  constructor(dirs: readonly string[] = [BUILTIN_PROFILE_DIR]) {
    for (const dir of dirs) this.loadDir(dir);
  }

  private loadDir(dir: string): void {
    if (!existsSync(dir)) return;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.json')) continue;
      const path = join(dir, file);
      const profile = parseProfile(path, readFileSync(path, 'utf8'));
      // Later directories (the user's config dir) override built-ins of the same name.
      this.profiles.set(profile.name, profile);
    }
  }

  get(name: string): Profile {
    const profile = this.profiles.get(name);
    if (profile === undefined) {
      throw new CorralError('PROFILE_NOT_FOUND', `No profile "${name}". Known profiles: ${this.names().join(', ')}.`, {
        details: { profile: name },
      });
    }
    return profile;
  }

  has(name: string): boolean {
    return this.profiles.has(name);
  }

  names(): string[] {
    return [...this.profiles.keys()].sort();
  }

  list(): Profile[] {
    return this.names().map((name) => this.get(name));
  }
}
