// Client commands of the CLI: each talks to the daemon over REST (placeholder table; filled per command module).

export const CLIENT_COMMANDS = new Set<string>(['token']);

export async function runClientCommand(command: string, argv: string[]): Promise<number> {
  const { parseArgs } = await import('node:util');
  const { defaultDataDir } = await import('../config/paths.js');
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  if (command === 'token') {
    const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' } }, strict: true });
    const dir = values['data-dir'] ?? defaultDataDir();
    process.stdout.write(readFileSync(join(dir, 'token'), 'utf8'));
    return 0;
  }
  return 2;
}
