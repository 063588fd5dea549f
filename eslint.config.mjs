// Type-aware lint for the whole monorepo, with Nx module boundaries on real tags:
//   scope:<service> may use only itself and scope:shared; type:lib never depends on an app;
//   only tests, benchmarks and tools may use type:testing / type:tool projects.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const SERVICES = [
  'identity',
  'messaging',
  'approvals',
  'customer-contact',
  'materials',
  'compliance',
  'devices',
];

const scopeConstraints = [
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  ...SERVICES.map((service) => ({
    sourceTag: `scope:${service}`,
    onlyDependOnLibsWithTags: [`scope:${service}`, 'scope:shared'],
  })),
];

const boundaries = (typeConstraints) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    // The tracing entry point must load before the rest of @qiwei/platform (see its header).
    allow: ['@qiwei/platform/tracing'],
    depConstraints: [...typeConstraints, ...scopeConstraints],
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.qiwei/**',
      'coverage/**',
      '.nx/**',
      '**/*.js',
      '**/*.mjs',
      'libs/contracts/src/gen/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': boundaries([
        { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
        { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
        { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
      ]),
    },
  },
  {
    // Tests and benchmarks may use the testing library and the tools (embedded engines).
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', '**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries([
        {
          sourceTag: 'type:app',
          onlyDependOnLibsWithTags: ['type:lib', 'type:testing', 'type:tool'],
        },
        {
          sourceTag: 'type:lib',
          onlyDependOnLibsWithTags: ['type:lib', 'type:testing', 'type:tool'],
        },
        { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
        {
          sourceTag: 'type:tool',
          onlyDependOnLibsWithTags: ['type:lib', 'type:tool', 'type:testing'],
        },
      ]),
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // kafkajs handlers must return promises even when they do nothing asynchronous.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  prettier,
);
