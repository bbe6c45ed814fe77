// Unit tests: `*.spec.ts` next to the code; pure logic, strict mocks, no infrastructure.
module.exports = {
  ...require('./jest.shared'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs,tools,bench}/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'],
};
