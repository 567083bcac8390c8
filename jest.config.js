// ESM TypeScript through ts-jest; tests start real servers and real git, so they get generous time.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }]
  },
  testMatch: ['<rootDir>/{src,e2e,testkit}/**/*.test.ts'],
  testTimeout: 60000,
  maxWorkers: 2,
  verbose: true,
  reporters: ['default', '<rootDir>/scripts/jest-summary-reporter.js']
}
