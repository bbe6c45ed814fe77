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
 * @lib/errors (its request checks answer the platform's 400), so neither can close a cycle. @lib/clients
 * sits just above them: the contracts it sends, the errors it throws and the transport it sends them with.
 */
const LOWER_LIB_IMPORTS = {
  'libs/errors/src/**/*.ts': [],
  'libs/contracts/src/**/*.ts': ['@lib/errors'],
  'libs/clients/src/**/*.ts': ['@lib/contracts', '@lib/errors', '@lib/internal-http'],
};

/**
 * Internal routes are named in two places only: the client of each service (`*.client.ts` of @lib/clients)
 * and the service's controllers (their route decorators, which never start with a slash). Callers use a
 * client's methods; tests and benchmarks name the wire paths they check.
 */
const NO_INTERNAL_PATHS = [
  {
    selector: 'Literal[value=/^\\x2Finternal\\x2F/]',
    message:
      'Internal routes are called through a client of @lib/clients (libs/clients/README.md).',
  },
  {
    selector: 'TemplateLiteral > TemplateElement:first-child[value.raw=/^\\x2Finternal\\x2F/]',
    message:
      'Internal routes are called through a client of @lib/clients (libs/clients/README.md).',
  },
];

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
      'no-restricted-syntax': ['error', ...NO_INTERNAL_PATHS],
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
        ...NO_INTERNAL_PATHS,
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
  {
    // The clients own the internal routes' paths; the transport and the guard know the prefix and the
    // batch endpoint; tests and benchmarks name the wire paths they check.
    files: [
      'libs/clients/src/**/*.client.ts',
      'libs/internal-http/src/**/*.ts',
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.e2e-spec.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
