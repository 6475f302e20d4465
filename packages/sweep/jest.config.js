module.exports = require('../../jest.preset.js')(__dirname, { setupFiles: ['<rootDir>/src/test-setup/data-roots.ts'] });
