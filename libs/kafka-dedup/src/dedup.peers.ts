import { optionalPeers } from '@nest-resilience/common';

/**
 * This package's optional peers (`ioredis`, `prom-client`, `pg`, …), required on first use; a
 * missing one is reported with this package's name and the `npm install` to run. @internal
 */
export const { loadOptionalPeer, requireOptionalPeer } = optionalPeers(
  '@nest-resilience/kafka-dedup',
);
