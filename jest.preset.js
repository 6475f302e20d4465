/** Shared jest preset: ts-jest on the sources, @ablate/* mapped to src so tests need no build. */
const path = require('node:path');

/** @param {string} dir the package directory (pass __dirname) @param {object} [extra] */
module.exports = function jestConfig(dir, extra = {}) {
  return {
    rootDir: dir,
    testEnvironment: 'node',
    testMatch: ['<rootDir>/src/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(dir, 'tsconfig.json'), diagnostics: { warnOnly: false } }],
    },
    moduleNameMapper: {
      '^@ablate/([a-z-]+)$': path.join(__dirname, 'packages/$1/src'),
    },
    testTimeout: 30000,
    ...extra,
  };
};
