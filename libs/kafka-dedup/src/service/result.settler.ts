import { isObservable, Observable } from 'rxjs';
import type { DedupKey, MaybePromise } from '../interfaces/dedup-key.interface';
import type { DedupStore } from '../stores/dedup.store';
import type { LeaseRenewal } from './lease.renewal';
import type { StoreFailurePolicy } from './store-failure.policy';

/**
 * Ends a claim by what its handler did: commit when it returned (a value, a Promise that resolved,
 * an Observable that completed), release when it threw, rejected, errored or was torn down early.
 * Synchronous when the handler and the store are (the memory store: no Promise on the path). While
 * an asynchronous handler runs, its claim's lease is renewed. @internal
 */
export class ResultSettler {
  constructor(
    private readonly store: DedupStore,
    private readonly ttl: number,
    private readonly leases: LeaseRenewal,
    private readonly failures: StoreFailurePolicy,
  ) {}

  /** Runs the handler of a claimed event; commits or releases by its outcome. */
  runClaimed(key: DedupKey, token: string, fn: () => unknown, topic: string): unknown {
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      return this.releaseAndThrow(key, token, topic, error);
    }
    return this.settleResult(key, token, topic, result);
  }

  /** Commits or releases a claimed event by what its handler returned (a value, Promise or Observable). */
  settleResult(key: DedupKey, token: string, topic: string, result: unknown): unknown {
    if (result instanceof Promise) {
      this.leases.hold(key, token);
      return result.then(
        (value: unknown) => {
          this.leases.unhold(token);
          return this.commitAndReturn(key, token, topic, value);
        },
        (error: unknown) => {
          this.leases.unhold(token);
          return this.releaseAndThrow(key, token, topic, error);
        },
      );
    }
    if (isObservable(result)) return this.settleWith(key, token, topic, result);
    return this.commitAndReturn(key, token, topic, result);
  }

  /** Commits, then answers `value` (synchronously when the store does). Never throws. */
  commitAndReturn(key: DedupKey, token: string, topic: string, value: unknown): unknown {
    let done: MaybePromise<void>;
    try {
      done = this.store.commit(key, token, this.ttl);
    } catch (error) {
      // The handler's side effects are done; throwing would only make Kafka redeliver it.
      this.failures.failed('commit', topic, error, false);
      return value;
    }
    if (done instanceof Promise) {
      return done.then(
        () => value,
        (error: unknown) => {
          this.failures.failed('commit', topic, error, false);
          return value;
        },
      );
    }
    return value;
  }

  /**
   * Releases, then rethrows `error`: synchronously when the store answers synchronously, else
   * returns a Promise rejected with `error` once the release is done.
   */
  releaseAndThrow(key: DedupKey, token: string, topic: string, error: unknown): unknown {
    let done: MaybePromise<void>;
    try {
      done = this.store.release(key, token);
    } catch (releaseError) {
      // The lease expires by itself; the redelivery then claims the event.
      this.failures.failed('release', topic, releaseError, false);
      throw error;
    }
    if (done instanceof Promise) {
      return done.then(
        () => Promise.reject(error),
        (releaseError: unknown) => {
          this.failures.failed('release', topic, releaseError, false);
          return Promise.reject(error);
        },
      );
    }
    throw error;
  }

  /** Commits when the handler's stream completes, releases when it errors or is torn down early. */
  private settleWith(
    key: DedupKey,
    token: string,
    topic: string,
    source: Observable<unknown>,
  ): Observable<unknown> {
    return new Observable((subscriber) => {
      let settled = false;
      this.leases.hold(key, token);
      const inner = source.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          settled = true;
          this.leases.unhold(token);
          settle(
            () => this.releaseAndThrow(key, token, topic, error),
            () => undefined,
            (e) => subscriber.error(e),
          );
        },
        complete: () => {
          settled = true;
          this.leases.unhold(token);
          settle(
            () => this.commitAndReturn(key, token, topic, undefined),
            () => subscriber.complete(),
            (e) => subscriber.error(e),
          );
        },
      });
      return () => {
        inner.unsubscribe();
        if (settled) return;
        // Torn down before the handler finished (e.g. a timeout): give the event back.
        this.leases.unhold(token);
        settle(
          () => this.releaseAndThrow(key, token, topic, undefined),
          () => undefined,
          () => undefined,
        );
      };
    });
  }
}

/**
 * What `fn` settles with, as a Promise: the handler's own Promise as it is (no extra async frame
 * and promise hop per message), an Observable's last value, a value or a synchronous throw wrapped.
 * @internal
 */
export function promiseOf(fn: () => unknown): Promise<unknown> {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    return Promise.reject(error);
  }
  if (result instanceof Promise) return result;
  return isObservable(result) ? lastValue(result) : Promise.resolve(result);
}

/** Runs `step` (a value, a throw or a Promise) and routes its outcome to `ok` / `fail`. */
function settle(
  step: () => unknown,
  ok: (value: unknown) => void,
  fail: (error: unknown) => void,
): void {
  let value: unknown;
  try {
    value = step();
  } catch (error) {
    fail(error);
    return;
  }
  if (value instanceof Promise) value.then(ok, fail);
  else ok(value);
}

function lastValue(source: Observable<unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let last: unknown;
    source.subscribe({ next: (v) => (last = v), error: reject, complete: () => resolve(last) });
  });
}
