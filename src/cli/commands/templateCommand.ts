// `corral template ls|show|set|rm`: session templates (named presets of `corral new`; create with --template).

import { presetCommand } from './presetCommands.js';

const USAGE = `Usage: corral template ls | show <name> | set <name> '<json>' | set <name> --file F | rm <name> [--json]

A template is a named preset of a session, every field optional:
  {"description","profile","kind":"pty"|"pipe","command":[argv…],"cwd","env":{K:V},"secretEnv":[K…],
   "cols","rows","labels":{K:V},"limits":{…},"autoAnswer":[dialog ids]}
e.g. corral template set dev '{"profile":"shell","cwd":"/home/me/src","env":{"EDITOR":"vim"}}'
It is checked when saved (profile, cwd under a root, env names, command): a template that could not start a
session is refused then, not at first use. Start a session from one with corral new --template <name>
(or POST /api/v1/sessions {"template":"<name>"}); flags given there win.`;

export const templateCommand = presetCommand({
  name: 'template',
  summary: 'session templates: ls, show, set, rm',
  usage: USAGE,
  collection: 'templates',
});
