import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { KafkaContext } from '@nestjs/microservices';
import { lastValueFrom, of } from 'rxjs';
import { Deduplicate } from './dedup.decorators';
import { DedupInterceptor } from './dedup.interceptor';
import { DedupModule } from './dedup.module';
import { DedupStore } from './stores/dedup.store';

describe('DedupInterceptor', () => {
  beforeEach(() => register.clear());

  it.each(['http', 'ws', 'rpc'])('does nothing outside a Kafka context (%s)', async (type) => {
    const moduleRef = await Test.createTestingModule({
      imports: [DedupModule.forRoot({ cleanupCron: false })],
    }).compile();
    const interceptor = moduleRef.get(DedupInterceptor);
    const claim = jest.spyOn(moduleRef.get(DedupStore), 'claim');
    const context = {
      getType: () => type,
      switchToRpc: () => ({ getContext: () => ({ some: 'grpc or tcp context' }) }),
      getHandler: () => () => undefined,
      getClass: () => Object,
    } as unknown as ExecutionContext;
    const next: CallHandler = { handle: () => of('handled') };
    expect(await lastValueFrom(interceptor.intercept(context, next))).toBe('handled');
    expect(claim).not.toHaveBeenCalled();
  });

  it('deduplicates a Kafka handler it is applied to, and passes a @Deduplicate()-wrapped one through', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DedupModule.forRoot({ cleanupCron: false })],
    }).compile();
    await moduleRef.init();
    const interceptor = moduleRef.get(DedupInterceptor);
    const kafka = new KafkaContext([
      { headers: { 'x-event-id': 'i1' }, offset: '1' } as never,
      0,
      'orders',
      null as never,
      async () => {},
      null as never,
    ]);
    let runs = 0;
    const next: CallHandler = { handle: () => (runs++, of('handled')) };
    const context = (handler: object) =>
      ({
        getType: () => 'rpc',
        switchToRpc: () => ({ getContext: () => kafka }),
        getHandler: () => handler,
        getClass: () => Object,
      }) as unknown as ExecutionContext;
    const plain = () => undefined;
    expect(await lastValueFrom(interceptor.intercept(context(plain), next))).toBe('handled');
    expect(
      await lastValueFrom(interceptor.intercept(context(plain), next), { defaultValue: 'skipped' }),
    ).toBe(undefined);
    expect(runs).toBe(1);
    class Wrapped {
      @Deduplicate()
      handle(): void {}
    }
    await lastValueFrom(interceptor.intercept(context(Wrapped.prototype.handle), next));
    expect(runs).toBe(2); // not claimed here: the wrapper deduplicates it
    await moduleRef.close();
  });
});
