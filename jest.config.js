/** Unit tests: *.spec.ts next to the source in apps/ and libs/. */
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/'],
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testEnvironment: 'node',
  // Built packages (npm run pack) are not sources.
  modulePathIgnorePatterns: ['<rootDir>/libs/[^/]+/dist/'],
  moduleNameMapper: {
    '^@nest-resilience/kafka-dedup(|/.*)$': '<rootDir>/libs/kafka-dedup/src/$1',
    '^@nest-resilience/grpc-pool(|/.*)$': '<rootDir>/libs/grpc-pool/src/$1',
  },
};
