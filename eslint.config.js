import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist', 'dist-demo', 'node_modules', 'test-results'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Scripts (runners, benchmarks) run in Node and drive pages in the browser.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // The core must stay free of browser, Node and UI libraries (DESIGN.md §2).
    files: ['src/log/**/*.ts', 'src/streams/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            'idb',
            'comlink',
            'zustand',
            'react',
            'node:*',
            'better-sqlite3',
            '../storage/*',
          ],
        },
      ],
    },
  },
)
