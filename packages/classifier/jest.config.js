module.exports = require('../../jest.preset.js')(__dirname, {
  setupFilesAfterEnv: ['<rootDir>/src/test-utils/jest-setup.ts'],
});
