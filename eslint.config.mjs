// pnpm lint: typescript-eslint's recommended rules on the sources, ESLint's on the plain JavaScript.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.turbo/**',
      '**/coverage/**',
      'test-artifacts/**',
      'packages/blas/native/**',
      'packages/backend/vk-layer/**',
    ],
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    rules: {
      // A leading underscore marks a parameter or binding kept on purpose (a callback's signature, a destructured rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `import x = require('...')` is how the CommonJS-only @stdlib packages are typed.
      '@typescript-eslint/no-require-imports': ['error', { allowAsImport: true }],
    },
  },
  {
    // The tfjs backends (some optional, some native) are loaded on demand, one require at a time, so a missing one is a reason.
    files: ['packages/backend/src/select-backend.ts', 'packages/backend/src/webgpu.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: { ...globals.node } },
  },
  {
    files: ['apps/ui/public/**/*.js'],
    // vega-embed is loaded by a <script> tag in index.html.
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, vegaEmbed: 'readonly' } },
  },
);
