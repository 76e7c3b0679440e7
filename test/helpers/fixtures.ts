// Where the test fixtures (scripts, recorded screens, hooks and transcripts) live, for tests at any depth.

import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, 'fixtures');
export const fixture = (name: string): string => join(FIXTURES, name);
