// `corral macro ls|show|set|rm|run`: named step lists (send, keys, waitState, waitPattern, sleep) run on a session.
// `run` prints one line per step; exit status 0 when every step passed, 4 when a wait timed out, 1 otherwise.

import { EXIT, UsageError } from '../cliCommand.js';
import { resolveSessionRef } from '../sessionRef.js';
import { writeJson } from './commandKit.js';
import { presetCommand, type PresetCommandVerb } from './presetCommands.js';

const USAGE = `Usage: corral macro ls | show <name> | set <name> '<json>' | set <name> --file F | rm <name>
       corral macro run <name> <session> [--json]   (session: id, name or unique id prefix)

A macro is {"description"?, "steps": [...]} with steps such as {"type":"send","text":"make\\r"},
{"type":"keys","keys":["C-c"]}, {"type":"waitState","states":["idle"],"timeoutMs":5000},
{"type":"waitPattern","pattern":"^BUILD-OK","timeoutMs":600000}, {"type":"sleep","ms":200}.
A waitPattern searches output after the last send: in a bash or zsh session at its prompt, output after the sent
command started (the terminal's echo of the typed line is not searched); elsewhere the echo is output too, so
anchor the pattern to a line start (^BUILD-OK) the typed line cannot match. Example:
  corral macro set build '{"steps":[{"type":"send","text":"make && echo BUILD-OK\\r"},
    {"type":"waitPattern","pattern":"^BUILD-OK","timeoutMs":600000}]}'`;

/** `macro run <name> <session-id>`: runs the macro on the session, one line per step. */
const runMacro: PresetCommandVerb = async ([name, id], api, io, json) => {
  if (name === undefined || id === undefined) throw new UsageError(`give the macro name and the session id\n${USAGE}`);
  const result = await api.sessions.runMacro(await resolveSessionRef(api, id), name);
  if (json) writeJson(io, result);
  else {
    for (const step of result.steps) {
      io.stdout.write(`${step.index}\t${step.type}\t${step.ok ? 'ok' : 'FAILED'}\t${step.durationMs}ms${step.error === undefined ? '' : `\t${step.error.message}`}\n`);
    }
  }
  if (result.ok) return EXIT.ok;
  return result.steps.at(-1)?.error?.code === 'TIMEOUT' ? EXIT.timeout : EXIT.failure;
};

export const macroCommand = presetCommand({
  name: 'macro',
  summary: 'macros: ls, show, set, rm, run <name> <session>',
  usage: USAGE,
  collection: 'macros',
  verbs: new Map([['run', runMacro]]),
});
