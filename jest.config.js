/** Unit tests: *.spec.ts next to the source in apps/, libs/ and scripts/. */
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/', '<rootDir>/scripts/'],
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testEnvironment: 'node',
  // Built packages (npm run pack) are not sources.
  modulePathIgnorePatterns: ['<rootDir>/libs/[^/]+/dist/'],
  moduleNameMapper: {
    // Each package name (and a subpath such as `/testing`) to its sources, as tsconfig `paths`.
    '^@nest-resilience/(kafka-dedup|grpc-pool|common)(|/.*)$': '<rootDir>/libs/$1/src$2',
  },
};
