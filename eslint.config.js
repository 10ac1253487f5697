import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import globals from 'globals';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

// Layering (see docs/ARCHITECTURE.md, "Module map"): every folder of the repository is an element
// of eslint-plugin-boundaries and may import only the elements its row of the table names
// (`boundaries/dependencies`, default disallow); a file outside every element is an error
// (`boundaries/no-unknown-files`); a row's type-only column admits `import type` and nothing else.
// What boundaries does not say stays in `no-restricted-imports`: 'electron' (a package) only in
// src-main/shell/, and no Node built-ins in the renderer and src-main/shared/.
const LAYERS = [
  // [element type, folder, value imports allowed, type-only imports allowed too]
  ['api', 'src-main/api', [], []],
  ['shared', 'src-main/shared', [], ['api']],
  ['common', 'src-main/common', ['api'], []],
  ['chats', 'src-main/chats', ['api', 'common'], []],
  ['models', 'src-main/models', ['api', 'common'], []],
  ['imaging', 'src-main/imaging', ['api', 'common', 'models'], []],
  ['engine', 'src-main/engine', ['api', 'common', 'models'], []],
  ['batch', 'src-main/batch', ['api', 'common', 'shared', 'models', 'imaging', 'engine'], []],
  [
    'app',
    'src-main/app',
    ['api', 'common', 'shared', 'chats', 'models', 'imaging', 'engine', 'batch'],
    [],
  ],
  ['capture', 'src-main/capture', ['api', 'common'], []],
  ['url-schemes', 'src-main/url-schemes', ['api', 'common', 'imaging'], []],
  [
    'server',
    'src-main/server',
    ['api', 'common', 'shared', 'chats', 'models', 'imaging', 'engine', 'batch', 'app'],
    [],
  ],
  [
    'cli',
    'src-main/cli',
    ['api', 'common', 'shared', 'chats', 'models', 'imaging', 'engine', 'batch', 'app', 'server'],
    [],
  ],
  [
    'shell',
    'src-main/shell',
    [
      'api',
      'common',
      'shared',
      'chats',
      'models',
      'imaging',
      'engine',
      'batch',
      'app',
      'server',
      'capture',
      'url-schemes',
      'server', // the desktop's opt-in local API (server/local-api-server.ts)
    ],
    [],
  ],
  ['renderer', 'src-renderer', ['shared'], ['api']],
];
// Outside the product: tests, scripts (benchmarks, test models, builds) and the CLI's launcher may
// import any product code; nothing in the product imports them.
const TOOLING = [
  ['tests', 'tests'],
  ['scripts', 'scripts'],
  ['bin', 'bin'],
];
const PRODUCT_TYPES = LAYERS.map(([type]) => type);
const boundaryElements = [
  ...LAYERS.map(([type, folder]) => ({ type, pattern: `${folder}/**`, partialMatch: false })),
  ...TOOLING.map(([type, folder]) => ({ type, pattern: `${folder}/**`, partialMatch: false })),
];
const boundaryPolicies = [
  ...LAYERS.flatMap(([type, , values, typesOnly]) => [
    { from: { element: { type } }, allow: { to: { element: { types: [type, ...values] } } } },
    ...(typesOnly.length > 0
      ? [
          {
            from: { element: { type } },
            allow: { to: { element: { types: typesOnly } }, dependency: { kind: 'type' } },
          },
        ]
      : []),
  ]),
  ...TOOLING.map(([type]) => ({
    from: { element: { type } },
    allow: { to: { element: { types: [...PRODUCT_TYPES, ...TOOLING.map(([t]) => t)] } } },
  })),
];

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
    // Every folder with code; the build tools' own config files at the root are not elements.
    files: ['{src-main,src-renderer,tests,scripts,bin}/**/*.{js,mjs,cjs,ts,svelte}'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': boundaryElements,
      'boundaries/root-path': fileURLToPath(new URL('.', import.meta.url)),
      'import/resolver': {
        [fileURLToPath(new URL('./scripts/lib/eslint-resolver.cjs', import.meta.url))]: {},
      },
    },
    rules: {
      'boundaries/dependencies': ['error', { default: 'disallow', policies: boundaryPolicies }],
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
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
              group: ['node:*'],
              message: 'src-main/shared/ runs in the renderer too: no Node modules.',
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
              group: ['node:*'],
              message: 'The renderer runs in a sandboxed browser page: no Node modules.',
            },
          ],
        },
      ],
    },
  },
);
