import { Controller } from '@nestjs/common';
import {
  Ctx,
  EventPattern,
  KafkaContext,
  KafkaHeaders,
  MessagePattern,
  Payload,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { lastValueFrom, Observable } from 'rxjs';
import { Deduplicate, SkipDeduplication } from './dedup.decorators';
import { DedupHandlerError } from './dedup.handler-error';
import { DedupModule } from './dedup.module';
import { DedupMissingKeyError } from './errors/dedup.errors';
import type { DedupModuleOptions } from './dedup.options';
import { DedupStore } from './stores/dedup.store';

let calls: string[] = [];

@Controller()
class EventsController {
  @EventPattern('orders')
  @Deduplicate()
  sync(value: { id: string }): string {
    calls.push(value.id);
    if (value.id.startsWith('fail')) throw new Error(`boom ${value.id}`);
    return `done ${value.id}`;
  }

  @EventPattern('orders.async')
  @Deduplicate()
  async later(@Payload() value: { id: string }): Promise<string> {
    await new Promise((r) => setTimeout(r, 5));
    calls.push(value.id);
    if (value.id.startsWith('fail')) throw new Error(`boom ${value.id}`);
    return `done ${value.id}`;
  }

  @Deduplicate({ onMissingKey: 'error' })
  @EventPattern('orders.stream')
  stream(@Payload() value: { id: string }): Observable<string> {
    return new Observable((subscriber) => {
      calls.push(value.id);
      setTimeout(() => {
        if (value.id.startsWith('fail')) subscriber.error(new Error('stream failed'));
        else subscriber.complete();
      }, 5);
    });
  }

  @MessagePattern('orders.rpc')
  @Deduplicate({ onMissingKey: 'error' })
  reply(@Payload() value: { id: string }): { processed: string } {
    calls.push(value.id);
    return { processed: value.id };
  }
}

@Controller()
class ContextController {
  @EventPattern<string>('orders.ctx')
  @Deduplicate()
  handle(@Payload() value: { id: string }, @Ctx() ctx: KafkaContext): unknown[] {
    calls.push(value.id);
    // eslint-disable-next-line prefer-rest-params
    return [ctx.getTopic(), arguments.length];
  }
}

@Controller()
@Deduplicate({ key: { from: 'key' } })
class ClassLevelController {
  @EventPattern('a')
  a(value: { id: string }): void {
    calls.push(`a:${value.id}`);
  }

  @EventPattern('b')
  @SkipDeduplication()
  b(value: { id: string }): void {
    calls.push(`b:${value.id}`);
  }

  @EventPattern('c')
  @Deduplicate() // the method's own options win: the id comes from the header
  c(value: { id: string }): void {
    calls.push(`c:${value.id}`);
  }

  helper(value: unknown, ctx: unknown, extra: unknown): unknown[] {
    return [value, ctx, extra];
  }
}

function kafka(
  topic: string,
  headers: Record<string, unknown>,
  extra: { key?: string; offset?: string } = {},
): KafkaContext {
  const message = { headers, key: extra.key, value: {}, offset: extra.offset ?? '7' };
  return new KafkaContext([
    message as never,
    0,
    topic,
    null as never,
    async () => {},
    null as never,
  ]);
}

const event = (topic: string, id: string | undefined) =>
  kafka(topic, id === undefined ? {} : { 'x-event-id': id });

const request = (id: string | undefined) =>
  kafka('orders.rpc', {
    ...(id === undefined ? {} : { 'x-event-id': id }),
    [KafkaHeaders.CORRELATION_ID]: 'c1',
    [KafkaHeaders.REPLY_TOPIC]: 'orders.rpc.reply',
  });

async function boot(options: DedupModuleOptions = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [DedupModule.forRoot({ cleanupCron: false, ...options })],
    controllers: [EventsController, ClassLevelController, ContextController],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

/**
 * Calls a wrapped handler as Nest does: `(payload, context)` for a handler without parameter
 * decorators, else its decorated arguments and then the context.
 */
type Handler = (...args: unknown[]) => unknown;

describe('@Deduplicate() wrapping the handler method', () => {
  beforeEach(() => {
    register.clear();
    calls = [];
  });

  it('runs a synchronous handler synchronously with the memory store and skips its duplicate', async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(EventsController);
    const sync = ctrl.sync as unknown as Handler;
    const first = sync.call(ctrl, { id: 'a' }, event('orders', 'a'));
    expect(first).toBe('done a'); // not a Promise: no await on the memory store's path
    expect(sync.call(ctrl, { id: 'a' }, event('orders', 'a'))).toBeUndefined();
    expect(sync.call(ctrl, { id: 'b' }, event('orders', 'b'))).toBe('done b');
    expect(calls).toEqual(['a', 'b']);
    await moduleRef.close();
  });

  it('releases the claim when the handler throws, so the redelivery runs, and reports the failure once', async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(EventsController);
    const sync = ctrl.sync as unknown as Handler;
    let error: unknown;
    try {
      sync.call(ctrl, { id: 'fail-1' }, event('orders', 'fail-1'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DedupHandlerError);
    expect((error as DedupHandlerError).getError()).toEqual(new Error('boom fail-1'));
    expect(() => sync.call(ctrl, { id: 'fail-1' }, event('orders', 'fail-1'))).toThrow(
      'boom fail-1',
    );
    expect(calls).toEqual(['fail-1', 'fail-1']);
    await moduleRef.close();
  });

  it('awaits an async handler before committing, and releases when it rejects', async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(EventsController);
    const later = ctrl.later as unknown as Handler;
    const pending = later.call(ctrl, { id: 'x' }, event('orders.async', 'x'));
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toBe('done x');
    expect(later.call(ctrl, { id: 'x' }, event('orders.async', 'x'))).toBeUndefined();
    await expect(
      later.call(ctrl, { id: 'fail-2' }, event('orders.async', 'fail-2')),
    ).rejects.toBeInstanceOf(DedupHandlerError);
    await expect(
      later.call(ctrl, { id: 'fail-2' }, event('orders.async', 'fail-2')),
    ).rejects.toBeInstanceOf(DedupHandlerError);
    expect(calls).toEqual(['x', 'fail-2', 'fail-2']);
    await moduleRef.close();
  });

  it('commits an Observable handler when it completes and releases when it errors', async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(EventsController);
    const stream = ctrl.stream as unknown as Handler;
    const run = (id: string) =>
      stream.call(ctrl, { id }, event('orders.stream', id)) as Observable<unknown> | undefined;
    await lastValueFrom(run('s1')!, { defaultValue: 'none' });
    expect(run('s1')).toBeUndefined(); // duplicate: skipped before the handler
    await expect(lastValueFrom(run('fail-3')!)).rejects.toBeInstanceOf(DedupHandlerError);
    await expect(lastValueFrom(run('fail-3')!)).rejects.toBeInstanceOf(DedupHandlerError);
    expect(calls).toEqual(['s1', 'fail-3', 'fail-3']);
    await moduleRef.close();
  });

  it('answers a @MessagePattern duplicate with duplicateReply and its missing id with DedupMissingKeyError', async () => {
    const moduleRef = await boot({ duplicateReply: (id) => ({ duplicate: id }) });
    const ctrl = moduleRef.get(EventsController);
    const reply = ctrl.reply as unknown as Handler;
    expect(reply.call(ctrl, { id: 'r' }, request('r'))).toEqual({ processed: 'r' });
    expect(reply.call(ctrl, { id: 'r' }, request('r'))).toEqual({ duplicate: 'r' });
    expect(() => reply.call(ctrl, { id: 'none' }, request(undefined))).toThrow(
      DedupMissingKeyError,
    );
    expect(calls).toEqual(['r']);
    await moduleRef.close();
  });

  it('logs and skips an event without id under onMissingKey: error, counting it', async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(EventsController);
    const stream = ctrl.stream as unknown as Handler;
    expect(stream.call(ctrl, { id: 'n' }, event('orders.stream', undefined))).toBeUndefined();
    expect(calls).toEqual([]);
    const metric = await register.getSingleMetric('kafka_dedup_missing_key_total')!.get();
    expect(metric.values).toEqual([
      expect.objectContaining({ value: 1, labels: { topic: 'orders.stream', store: 'memory' } }),
    ]);
    await moduleRef.close();
  });

  it('does nothing outside a Kafka context', async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(EventsController);
    const claim = jest.spyOn(moduleRef.get(DedupStore), 'claim');
    const sync = ctrl.sync as unknown as Handler;
    expect(sync.call(ctrl, { id: 'h' }, { some: 'grpc context' })).toBe('done h');
    expect(sync.call(ctrl, { id: 'h' })).toBe('done h'); // called directly, e.g. from a test
    expect(calls).toEqual(['h', 'h']);
    expect(claim).not.toHaveBeenCalled();
    await moduleRef.close();
  });

  it('applies a class-level @Deduplicate() to pattern handlers only; a method decorator wins', async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(ClassLevelController);
    const call = (name: 'a' | 'b' | 'c', id: string, key: string) =>
      (ctrl[name] as unknown as Handler).call(
        ctrl,
        { id },
        kafka(name, { 'x-event-id': id }, { key }),
      );
    call('a', '1', 'k1');
    call('a', '2', 'k1'); // same message key: a duplicate for the class's key source
    call('b', '1', 'k1');
    call('b', '1', 'k1'); // @SkipDeduplication(): runs every time
    call('c', '1', 'k1');
    call('c', '2', 'k1'); // the method's @Deduplicate() reads the header: two ids
    expect(calls).toEqual(['a:1', 'b:1', 'b:1', 'c:1', 'c:2']);
    expect(ctrl.helper(1, 2, 3)).toEqual([1, 2, 3]); // not a handler: untouched
    await moduleRef.close();
  });

  it('asks Nest for the payload and the context of a handler without parameter decorators', () => {
    // Nest 12 passes such a handler its payload only: without both declared, the wrapper would
    // never see a KafkaContext and would run the handler without deduplication.
    const entriesOf = (type: object, key: string) => {
      const metaKey = Reflect.getOwnMetadataKeys(type, key)[0] as string;
      const args = Reflect.getOwnMetadata(metaKey, type, key) as Record<string, { index: number }>;
      return Object.entries(args).map(([entry, { index }]) => [entry.split(':')[0], index]);
    };
    class Probe {
      handle(_payload: unknown, _context: unknown): void {}
    }
    Payload()(Probe.prototype, 'handle', 0);
    Ctx()(Probe.prototype, 'handle', 1);
    expect(entriesOf(ClassLevelController, 'a')).toEqual(
      expect.arrayContaining(entriesOf(Probe, 'handle')),
    );
    expect(entriesOf(ClassLevelController, 'a')).toHaveLength(2);
  });

  it('keeps the pattern metadata Nest routes by on the wrapper', () => {
    const proto = EventsController.prototype as unknown as Record<string, object>;
    const keys = (fn: object) => Reflect.getOwnMetadataKeys(fn).map(String);
    // @Deduplicate() below and above @EventPattern: both keep Nest's metadata
    expect(keys(proto.sync)).toEqual(expect.arrayContaining(['microservices:pattern']));
    expect(keys(proto.stream)).toEqual(expect.arrayContaining(['microservices:pattern']));
    expect((proto.sync as { name: string }).name).toBe('sync');
  });

  it("reads the context from the handler's own @Ctx() and passes it on unchanged", async () => {
    const moduleRef = await boot();
    const ctrl = moduleRef.get(ContextController);
    const handle = ctrl.handle as unknown as Handler;
    expect(handle.call(ctrl, { id: 'k' }, event('orders.ctx', 'k'))).toEqual(['orders.ctx', 2]);
    expect(handle.call(ctrl, { id: 'k' }, event('orders.ctx', 'k'))).toBeUndefined();
    expect(calls).toEqual(['k']);
    await moduleRef.close();
  });
});
