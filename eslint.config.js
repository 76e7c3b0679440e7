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
);

/** Import patterns the browser code may not use, in a file `up` away from src/ (`../` in src/web itself). */
function webOnly(up) {
  return [
    { group: [`${up}*`, `!${up}protocol`, `!${up}protocol/`], message: 'src/web imports only src/web and src/protocol.' },
    { group: ['node:*'], message: 'src/web runs in the browser: no Node modules.' },
  ];
}
