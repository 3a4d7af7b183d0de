import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { DEDUP_HANDLER_METADATA } from './dedup.constants';
import { resolveKeySource } from './dedup.options';
import { DedupInterceptor } from './dedup.interceptor';
import type { DeduplicateOptions } from './interfaces/dedup-options.interface';

/**
 * Deduplicates a Kafka `@EventPattern` / `@MessagePattern` handler with {@link DedupInterceptor}.
 * Options override the module's for this handler; they are validated when the class loads.
 *
 * @example
 * \@EventPattern('users.cdc')
 * \@Deduplicate({ key: { from: 'value', path: ['source.lsn', 'source.txId'] } })
 * handle(@Payload() change: UserChange) { … }
 */
export function Deduplicate(options: DeduplicateOptions = {}): MethodDecorator {
  if (options.key !== undefined) resolveKeySource('@Deduplicate().key', options.key);
  return applyDecorators(
    SetMetadata(DEDUP_HANDLER_METADATA, options),
    UseInterceptors(DedupInterceptor),
  );
}

/** Exempts a handler from `applyToAllHandlers`. */
export function SkipDeduplication(): MethodDecorator {
  return SetMetadata(DEDUP_HANDLER_METADATA, { skip: true } satisfies DeduplicateOptions);
}
