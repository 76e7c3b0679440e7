#!/usr/bin/env node
// The `corral` command line: `serve` runs the daemon; every other command is a client in commands/.

import { EXIT, type CliIO } from './cliCommand.js';
import { COMMANDS } from './commandRegistry.js';
import { packageVersion } from '../common/packageVersion.js';

function usage(): string {
  const lines = [...COMMANDS.values()].map((c) => `  ${c.name.padEnd(10)} ${c.summary}`);
  return `corral — a session daemon for terminal agents and long-running commands

Usage: corral <command> [options]

  serve      run the daemon (--host, --port, --data-dir, --root …)
${lines.join('\n')}

Clients find the daemon through CORRAL_URL + CORRAL_TOKEN, else --data-dir / CORRAL_DATA_DIR, else the default
data dir. Every client command takes --json. Exit codes: 0 ok, 1 failure, 2 usage or bad request, 3 not found,
4 timed out, 5 daemon unreachable (run and exec: the command's own exit code).
A session <id> can also be given as its name or a unique start of its id (corral attach dev, corral show s_xXp);
one that fits several is refused with SESSION_AMBIGUOUS (exit 2), one that fits none with SESSION_NOT_FOUND (exit 3).
`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage());
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.ok;
  }
  if (command === 'serve') {
    // Loaded only for `serve`: the daemon, its faces and their dependencies would add seconds to every client command.
    const [{ serveCommand }, { defaultFaces }] = await Promise.all([import('./serveCommand.js'), import('../daemon/faces.js')]);
    return serveCommand(rest, defaultFaces());
  }
  const client = COMMANDS.get(command);
  if (client !== undefined) {
    const io: CliIO = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
    return client.run(rest, io);
  }
  process.stderr.write(`corral: unknown command "${command}"\n\n${usage()}`);
  return EXIT.usage;
}

/**
 * A reader that leaves early (`corral logs <id> | head -1`) makes our next write fail with EPIPE. Like other
 * Unix tools we stop writing and exit quietly instead of dying on an unhandled 'error' event. The exit is
 * deferred to setImmediate so that a command which already has its answer keeps it: `run` has the command's
 * exit code by the time it writes, and it is still ours (`corral run -- make test | head` still says whether
 * the tests passed). A command still producing output (`logs -f`) has no code yet and ends with 0: the reader
 * chose to stop, that is not a failure.
 */
function exitQuietlyWhenReaderLeaves(stream: NodeJS.WriteStream): void {
  let leaving = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    // After the first EPIPE the stream is destroyed: further writes fail too, and are as expected.
    if (leaving) return;
    if (error.code !== 'EPIPE') throw error;
    leaving = true;
    setImmediate(() => process.exit(process.exitCode ?? EXIT.ok));
  });
}

exitQuietlyWhenReaderLeaves(process.stdout);
exitQuietlyWhenReaderLeaves(process.stderr);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`corral: ${(error as Error).message}\n`);
    process.exitCode = EXIT.failure;
  },
);
