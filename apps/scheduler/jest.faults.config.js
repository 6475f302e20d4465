// pnpm test:faults: the fault-injection suite (src/faults/*.faults.ts), apart from the unit and e2e tests.
module.exports = require('../../jest.preset.js')(__dirname, { testTimeout: 600000, testMatch: ['<rootDir>/src/faults/**/*.faults.ts'] });
