// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import boundaries every file keeps; the blocks below add to them for some files. */
const IMPORT_PATTERNS = [
  { group: ['**/apps/*', '../../*/src/**'], message: 'No app imports another app.' },
  {
    group: ['@lib/*/*', '**/libs/*/src/**'],
    message: 'Import libs only as @lib/<name>.',
  },
];

/**
 * The libs at the bottom of the lib graph: @lib/errors imports no other lib, and @lib/contracts only
 * @lib/errors (its request checks answer the platform's 400), so neither can close a cycle.
 */
const LOWER_LIB_IMPORTS = {
  'libs/errors/src/**/*.ts': [],
  'libs/contracts/src/**/*.ts': ['@lib/errors'],
};

export default tseslint.config(
  { ignores: ['dist/**', '.local/**', 'node_modules/**', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-restricted-imports': ['error', { patterns: IMPORT_PATTERNS }],
    },
  },
  {
    // One data-access style: repositories own SQL. Services, workers and processors call repositories and
    // hand them a transaction (`Tx` of @lib/database); they neither import TypeORM nor run queries.
    files: ['apps/**/*.service.ts', 'apps/**/*.worker.ts', 'apps/**/*.processor.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: IMPORT_PATTERNS,
          paths: ['typeorm', '@nestjs/typeorm'].map((name) => ({
            name,
            message:
              'SQL lives in repositories: call one (a transaction is `Tx` of @lib/database).',
          })),
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.property.name=/^(query|createQueryBuilder|getRepository)$/]',
          message: 'SQL lives in repositories.',
        },
      ],
    },
  },
  {
    // Settings come from the app's config, validated and built once at boot (`apps/<app>/src/config`, from
    // the fragments of @lib/config), and reach the code through Nest DI; only the config code reads the
    // environment (and tracing, which starts before Nest, through `tracingEnv`).
    files: ['apps/**/src/**/*.ts', 'libs/**/src/**/*.ts'],
    ignores: [
      'apps/*/src/config/**',
      'libs/config/src/**',
      'libs/observability/src/trace-sampler.ts',
      'libs/testing/src/**',
      '**/*.spec.ts',
      '**/*.int-spec.ts',
    ],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: "Read settings from the app's config (injected), not process.env.",
        },
      ],
    },
  },
  ...Object.entries(LOWER_LIB_IMPORTS).map(([files, allowed]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...IMPORT_PATTERNS,
            {
              group: ['@lib/*', ...allowed.map((lib) => `!${lib}`)],
              message: `This lib may import ${allowed.join(', ') || 'no other lib'}.`,
            },
          ],
        },
      ],
    },
  })),
  {
    files: [
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
);
