// One jest run for the whole monorepo. Each test file gets its own PostgreSQL database
// (libs/testing), so files run in parallel; two workers fit this project's 2-core machines.
// swcrc: false — .swcrc excludes spec files from the build, and @swc/jest would otherwise apply
// that exclude to the test run and refuse every spec.
const swcConfig = {
  swcrc: false,
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2023',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

const moduleNameMapper = {
  '^@qiwei/platform$': '<rootDir>/libs/platform/src/index.ts',
  '^@qiwei/persistence$': '<rootDir>/libs/persistence/src/index.ts',
  '^@qiwei/auth$': '<rootDir>/libs/auth/src/index.ts',
  '^@qiwei/testing$': '<rootDir>/libs/testing/src/index.ts',
  '^@qiwei/dev-kafka$': '<rootDir>/tools/dev-kafka/src/index.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', swcConfig] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['<rootDir>/{services,libs,tools}/**/*.{spec,e2e-spec}.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.qiwei/'],
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.ts',
  maxWorkers: process.env.JEST_WORKERS ?? 2,
  testTimeout: 60_000,
};
