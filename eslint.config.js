import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'
import { layersPlugin } from './eslint/layerRule.js'

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
    // The layers and the imports each may make: one table, eslint/layers.js (docs/architecture.md).
    files: ['src/**/*.ts'],
    plugins: { layers: layersPlugin },
    rules: { 'layers/imports': 'error' },
  },
)
