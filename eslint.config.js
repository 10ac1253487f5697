import js from '@eslint/js';
import globals from 'globals';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

// Layering (see docs/ARCHITECTURE.md): 'electron' only in src-main/shell/; the renderer imports
// nothing from src-main/ except type-only imports from src-main/api/ and src-main/shared/, whose
// code runs in Node and in the browser alike (so it imports no Node module and nothing else).
const electronOutsideShell = {
  name: 'electron',
  message: "Only src-main/shell/ may import 'electron'; keep core services plain Node.",
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'out/',
      'dist/',
      'native/build/',
      'test-results/',
      'playwright-report/',
      'release/',
      '.cache/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src-main/**/*.ts', 'scripts/**/*.ts', 'tests/**/*.ts', 'bin/**/*.js'],
    ignores: ['src-main/shell/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [electronOutsideShell] }] },
  },
  {
    files: ['src-main/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOutsideShell],
          patterns: [
            {
              group: ['node:*', '../**', '!../api', '!../api/**'],
              message:
                'src-main/shared/ runs in the renderer too: no Node modules, no imports but types from src-main/api/.',
            },
            {
              group: ['../api', '../api/**'],
              allowTypeImports: true,
              message: 'Import only types from src-main/api/ (import type ...).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte', 'src-renderer/**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.svelte'],
        svelteFeatures: { experimentalGenerics: true },
      },
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronOutsideShell],
          patterns: [
            {
              group: [
                '**/src-main/**',
                '!**/src-main/api',
                '!**/src-main/api/**',
                '!**/src-main/shared',
                '!**/src-main/shared/**',
              ],
              message:
                'The renderer may only import types from src-main/api/ and src-main/shared/.',
            },
            {
              group: ['**/src-main/api', '**/src-main/api/**'],
              allowTypeImports: true,
              message: 'Import only types from src-main/api/ (import type ...).',
            },
            {
              group: ['node:*'],
              message: 'The renderer runs in a sandboxed browser page: no Node modules.',
            },
          ],
        },
      ],
    },
  },
);
