// Integration tests: `*.int-spec.ts`, against the real local Postgres, Redis, Apache Kafka and S3Proxy (which verifies signatures).
module.exports = {
  ...require('./jest.shared'),
  displayName: 'int',
  testMatch: ['<rootDir>/{apps,libs,tools,test}/**/*.int-spec.ts'],
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  testTimeout: 60_000,
};
