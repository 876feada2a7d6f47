import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// The package graph (docs/architecture.md), enforced on every import by Nx's project graph and the projects' tags
// (project.json): `layer:*` orders the packages, `stack:light` keeps the tracker, the services, the search maths and
// the dashboard free of the ML stack (data, model, trainer: TensorFlow, sharp, canvas).
const depConstraints = [
  { sourceTag: 'layer:base', onlyDependOnLibsWithTags: ['layer:base'] },
  { sourceTag: 'layer:core', onlyDependOnLibsWithTags: ['layer:base'] },
  { sourceTag: 'layer:platform', onlyDependOnLibsWithTags: ['layer:base', 'layer:core', 'layer:platform'] },
  { sourceTag: 'layer:training', onlyDependOnLibsWithTags: ['layer:base', 'layer:core', 'layer:platform'] },
  {
    sourceTag: 'layer:orchestration',
    onlyDependOnLibsWithTags: ['layer:base', 'layer:core', 'layer:platform', 'layer:training'],
  },
  {
    sourceTag: 'layer:app',
    onlyDependOnLibsWithTags: ['layer:base', 'layer:core', 'layer:platform', 'layer:training', 'layer:orchestration'],
  },
  {
    sourceTag: 'layer:e2e',
    onlyDependOnLibsWithTags: [
      'layer:base',
      'layer:core',
      'layer:platform',
      'layer:training',
      'layer:orchestration',
      'layer:app',
    ],
  },
  { sourceTag: 'stack:light', onlyDependOnLibsWithTags: ['stack:light'] },
];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '.venv/**', 'data/**', 'models/**', 'packages/dashboard/web-dist/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // plain Node scripts (benchmarks, tooling)
    files: ['**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'Buffer',
          'URL',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'performance',
          'fetch',
          'AbortController',
          'structuredClone',
          'TextEncoder',
          'TextDecoder',
          'URLSearchParams',
          'setImmediate',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      // the dashboard is an application (served by the tracker); only its end-to-end tests import its sources
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: ['@ocrops/dashboard'], depConstraints },
      ],
    },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
);
