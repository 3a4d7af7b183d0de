import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { register } from 'prom-client';
import { lastValueFrom, of } from 'rxjs';
import { DedupInterceptor } from './dedup.interceptor';
import { DedupModule } from './dedup.module';
import { DedupService } from './dedup.service';

describe('DedupInterceptor', () => {
  beforeEach(() => register.clear());

  it.each(['http', 'ws', 'rpc'])('does nothing outside a Kafka context (%s)', async (type) => {
    const moduleRef = await Test.createTestingModule({
      imports: [DedupModule.forRoot({ cleanupCron: false })],
    }).compile();
    const interceptor = moduleRef.get(DedupInterceptor);
    const acquire = jest.spyOn(moduleRef.get(DedupService), 'acquire');
    const context = {
      getType: () => type,
      switchToRpc: () => ({ getContext: () => ({ some: 'grpc or tcp context' }) }),
      getHandler: () => () => undefined,
    } as unknown as ExecutionContext;
    const next: CallHandler = { handle: () => of('handled') };
    expect(await lastValueFrom(interceptor.intercept(context, next))).toBe('handled');
    expect(acquire).not.toHaveBeenCalled();
  });
});
