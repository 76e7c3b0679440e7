// Lint rules: typescript-eslint's recommended set, plus the habits of STYLE.md that a linter can check.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'src/web/dist/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['src/web/**/*.ts', 'src/web/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  // The dashboard runs in the browser: it may import itself and the shared protocol, never the daemon's code
  // (engine, server, common) nor Node. The patterns match import paths as written, so one block per folder depth.
  {
    files: ['src/web/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: webOnly('../') }] },
  },
  {
    files: ['src/web/*/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: webOnly('../../') }] },
  },
  ...layering(),
);

/**
 * The layers of docs/architecture.md, checked: what each folder of src/ may import of ours. Imports are relative,
 * so each rule is a regex over the import path; `(\.\./)+x/` is folder x of src/ seen from anywhere below it.
 */
function layering() {
  // src/web has its own blocks above (webOnly): only src/web, src/protocol, and no Node.
  const up = '^(\\.\\./)+';
  const rule = (files, forbidden) => ({
    files,
    rules: { 'no-restricted-imports': ['error', { patterns: forbidden.map(([regex, message]) => ({ regex, message })) }] },
  });
  const engineOnlyByItsDoor = [
    `${up}engine/(?!Engine\\.js$|engineTypes\\.js$)`,
    'Faces use the engine only through src/engine/Engine.ts and its public types (src/engine/engineTypes.ts).',
  ];
  return [
    rule(['src/protocol/**'], [['^\\.\\./', 'src/protocol is shared by every layer and the browser: it imports nothing else of ours.']]),
    rule(
      ['src/common/**', 'src/config/**'],
      [['^\\.\\./(?!protocol/)', 'src/common and src/config are leaf helpers: they import only src/protocol.']],
    ),
    rule(
      ['src/engine/**'],
      [[`${up}(server|mcp|fleet|daemon|cli|client|web|store|config)/`, 'The engine knows no face, no fleet, no composition root and no storage: use its ports (src/engine/ports.ts).']],
    ),
    rule(['src/store/**'], [['^\\.\\./(?!protocol/|engine/ports\\.js$)', 'The store implements the engine ports: it imports only src/protocol and src/engine/ports.ts.']]),
    rule(
      ['src/server/**'],
      [
        engineOnlyByItsDoor,
        [`${up}(store|mcp|fleet|daemon|cli|client|web)/`, 'A face gets what it needs through FaceContext (src/server/face.ts); the daemon wires it.'],
      ],
    ),
    rule(
      ['src/fleet/**'],
      [
        engineOnlyByItsDoor,
        [`${up}(store|mcp|daemon|cli|client|web)/`, 'The fleet sits between the faces and other nodes: it uses src/server and the engine\'s door, and the daemon wires it.'],
      ],
    ),
    rule(
      ['src/mcp/**'],
      [
        engineOnlyByItsDoor,
        [`${up}server/(?!face\\.js$)`, 'The MCP face takes only FaceContext (src/server/face.ts) from the HTTP server.'],
        [`${up}(store|fleet|daemon|cli|web)/`, 'A face gets what it needs through FaceContext; the daemon wires it.'],
      ],
    ),
    rule(['src/cli/**'], [[`${up}(engine|server|store|fleet)/`, 'The CLI talks to the daemon over HTTP (src/client); `serve` starts it through src/daemon.']]),
    rule(['src/client/**'], [[`${up}(engine|server|store|mcp|fleet|daemon|cli|web)/`, 'The client speaks the wire protocol only (src/protocol).']]),
  ];
}

/** Import patterns the browser code may not use, in a file `up` away from src/ (`../` in src/web itself). */
function webOnly(up) {
  return [
    { group: [`${up}*`, `!${up}protocol`, `!${up}protocol/`], message: 'src/web imports only src/web and src/protocol.' },
    { group: ['node:*'], message: 'src/web runs in the browser: no Node modules.' },
  ];
}
