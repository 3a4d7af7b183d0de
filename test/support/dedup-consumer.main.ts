/**
 * A Nest Kafka consumer in its own process, for crash and restart tests (killed with SIGKILL or
 * stopped with SIGTERM). Run through ts-metadata-register.js; settings come as JSON in
 * DEDUP_CHILD_SPEC (see {@link ChildSpec}). Each side effect is appended to `effectsFile` as
 * `<id> <epoch ms>` (appendFileSync: on disk before the handler returns, so a SIGKILL loses none).
 */
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload, Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { appendFileSync } from 'node:fs';
import {
  DedupKafkaServer,
  DedupModule,
  Deduplicate,
  RedisDedupStore,
  type DedupModuleOptions,
} from '@nest-resilience/kafka-dedup';

/** Settings of the child consumer. */
export interface ChildSpec {
  topic: string;
  /** Kafka consumer group (Nest appends `-server`). */
  kafkaGroup: string;
  dedup: DedupModuleOptions;
  effectsFile: string;
  /** Ids whose handler never returns (holds its claim until the process dies). */
  blockIds?: string[];
  /** Handler time per event, ms. */
  delayMs?: number;
  broker: string;
  /** Print `claim <id> <status> <epoch ms>` for every Redis claim attempt (stall measurements). */
  traceClaims?: boolean;
  /** Batch mode: `DedupKafkaServer` instead of Nest's Kafka server. */
  batch?: boolean;
}

const spec = JSON.parse(process.env.DEDUP_CHILD_SPEC ?? '{}') as ChildSpec;
const block = new Set(spec.blockIds ?? []);

if (spec.traceClaims) {
  const claim = RedisDedupStore.prototype.claim;
  RedisDedupStore.prototype.claim = async function (this: RedisDedupStore, key, leaseTtl) {
    const result = await claim.call(this, key, leaseTtl);
    process.stdout.write(`claim ${String(key.id)} ${result.status} ${Date.now()}\n`);
    return result;
  };
}

@Controller()
class ChildController {
  @EventPattern<string>(spec.topic)
  @Deduplicate()
  async handle(@Payload() payload: unknown): Promise<void> {
    const value = payload as { id: string };
    if (block.has(value.id)) {
      process.stdout.write(`blocking ${value.id}\n`);
      await new Promise(() => undefined);
    }
    if (spec.delayMs) await new Promise((resolve) => setTimeout(resolve, spec.delayMs));
    appendFileSync(spec.effectsFile, `${value.id} ${Date.now()}\n`);
  }
}

@Module({ imports: [DedupModule.forRoot(spec.dedup)], controllers: [ChildController] })
class ChildModule {}

async function main(): Promise<void> {
  const options = {
    client: { clientId: spec.kafkaGroup, brokers: [spec.broker] },
    consumer: {
      groupId: spec.kafkaGroup,
      sessionTimeout: 6_000,
      heartbeatInterval: 500,
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1_000 },
    },
    subscribe: { fromBeginning: true },
  };
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(ChildModule, {
    logger: ['error', 'warn'],
    ...(spec.batch
      ? { strategy: new DedupKafkaServer(options) }
      : { transport: Transport.KAFKA, options }),
  });
  app.enableShutdownHooks();
  await app.listen();
  process.stdout.write('ready\n');
}

void main().catch((error: unknown) => {
  process.stderr.write(`child failed: ${String(error)}\n`);
  process.exit(1);
});
