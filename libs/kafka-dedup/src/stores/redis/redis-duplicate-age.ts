import type { RedisLike } from './redis-client';

/**
 * Measures how old a caught duplicate's original is: asks the done record's `PTTL` (one command
 * per duplicate, sent after the duplicate was answered and never awaited by the message, so it
 * adds no latency) and hands the ms it still had to live to `onDuplicate`; the window turns that
 * into the age (`ttl - remaining`). Nothing is sent without an observer. Failures are ignored:
 * a missing sample is not worth a log line.
 * @internal
 */
export function probeDuplicateAge(
  client: RedisLike,
  key: string | Buffer,
  onDuplicate: ((remainingMs: number) => void) | undefined,
): void {
  if (onDuplicate === undefined) return;
  client.pttl(key).then(
    (remaining) => {
      // -2: gone meanwhile, -1: no TTL (not a record of this store).
      if (remaining >= 0) onDuplicate(remaining);
    },
    () => undefined,
  );
}
