/** Unit tests: *.spec.ts next to the source in apps/ and libs/. */
module.exports = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  rootDir: '.',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/'],
  testRegex: '.*\\.spec\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  testEnvironment: 'node',
  moduleNameMapper: {
    '^@app/kafka-dedup(|/.*)$': '<rootDir>/libs/kafka-dedup/src/$1',
    '^@app/grpc-pool(|/.*)$': '<rootDir>/libs/grpc-pool/src/$1',
  },
};
