// Shared Jest settings: SWC compiles TypeScript (with decorator metadata for Nest DI); `@lib/*` maps to libs/*/src.
const swc = JSON.parse(
  require('fs').readFileSync(require('path').join(__dirname, '.swcrc'), 'utf8'),
);
delete swc.$schema;
delete swc.jsc.baseUrl;
delete swc.jsc.paths;

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@lib/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.local/'],
};
