/**
 * What @nest-resilience/kafka-dedup and @nest-resilience/grpc-pool share. A private workspace
 * package: the repository resolves it through tsconfig `paths` (jest: `moduleNameMapper`), and
 * `npm run pack` compiles it into each published package's `dist/vendor/common`.
 */
export { describeValue } from './describe-value';
export {
  applyWhenDown,
  checkWhenDown,
  healthResult,
  type DegradableHealthResult,
  type HealthResult,
  type WhenDown,
} from './health-result';
export { bool, int, list, rejectUnknownKeys, str, type Fail } from './option-checks';
export { loadOptionalPeer, optionalPeers, type OptionalPeers } from './optional-peer';
export { counter, gauge, histogram } from './prometheus.peer';
