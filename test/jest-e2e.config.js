// End-to-end tests: the five apps built and started as processes on the local infrastructure.
module.exports = {
  ...require('../jest.shared'),
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'],
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  testTimeout: 120_000,
};
