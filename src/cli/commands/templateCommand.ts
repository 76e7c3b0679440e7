// `corral template ls|show|set|rm`: session templates (named presets of `corral new`; create with --template).

import { presetCommand } from './presetCommands.js';

const USAGE = `Usage: corral template ls | show <name> | set <name> '<json>' | set <name> --file F | rm <name> [--json]

A template is a named preset of a session: {"profile","command","cwd","env","cols","rows","limits","autoAnswer",
"labels","description"}. Create a session from one with POST /api/v1/sessions {"template":"<name>"}.`;

export const templateCommand = presetCommand({
  name: 'template',
  summary: 'session templates: ls, show, set, rm',
  usage: USAGE,
  collection: 'templates',
});
