// One jest run for the whole monorepo. Each test file gets its own PostgreSQL database
// (libs/testing), so files run in parallel; two workers fit this project's 2-core machines.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// The build's swc settings (decorator metadata, `@qiwei/*` path aliases), minus its excludes;
// an absolute baseUrl so aliases also resolve in jest's global setup, outside the module mapper.
const swcrc = JSON.parse(readFileSync(join(__dirname, '.swcrc'), 'utf8'));
const swcConfig = {
  swcrc: false,
  jsc: { ...swcrc.jsc, baseUrl: __dirname },
  module: swcrc.module,
  sourceMaps: 'inline',
};

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', swcConfig] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/{services,libs,tools}/**/*.{spec,e2e-spec}.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.qiwei/'],
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.ts',
  maxWorkers: process.env.JEST_WORKERS ?? 2,
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/tools/scripts/totals-reporter.js'],
};
