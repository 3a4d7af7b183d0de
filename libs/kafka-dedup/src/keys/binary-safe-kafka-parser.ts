import { isUtf8 } from 'node:buffer';
import { KafkaParser, ServerKafka, type KafkaOptions } from '@nestjs/microservices';

/**
 * Nest's Kafka parser, except that a header or key whose bytes are not valid UTF-8 stays a Buffer
 * instead of being decoded with replacement characters (Nest's parser turns `ff 01` and `fe 01`
 * into the same text, so two different event ids would deduplicate as one). Valid UTF-8 is
 * decoded exactly as Nest does. `keepBinary` keeps applying to the value.
 */
export class BinarySafeKafkaParser extends KafkaParser {
  override decode(value: Buffer): object | string | null | Buffer {
    if (Buffer.isBuffer(value) && value.length > 0 && !isUtf8(value)) return value;
    return super.decode(value);
  }
}

type Handler = NonNullable<ReturnType<ServerKafka['getHandlerByPattern']>>;

/**
 * Nest's `ServerKafka` with {@link BinarySafeKafkaParser}: binary event ids reach the
 * deduplicator as their raw bytes. Use it as a custom transport strategy.
 *
 * It also resolves each topic's handler once: Nest's server looks a topic up twice per message and
 * each look-up first tries `JSON.parse` on the topic name (for object patterns), which throws for
 * every ordinary topic: a SyntaxError built and caught (~5 µs each on a 2-core test machine) for an
 * answer that only changes when a handler is added.
 *
 * @example
 * app.connectMicroservice({ strategy: new BinarySafeServerKafka({ client: { brokers }, consumer: { groupId } }) });
 */
export class BinarySafeServerKafka extends ServerKafka {
  private readonly routes = new Map<string, Handler | null>();

  constructor(options: Required<KafkaOptions>['options']) {
    super(options);
    this.parser = new BinarySafeKafkaParser(options?.parser);
  }

  override addHandler(...args: Parameters<ServerKafka['addHandler']>): void {
    this.routes.clear();
    super.addHandler(...args);
  }

  override getHandlerByPattern(pattern: string): Handler | null {
    let handler = this.routes.get(pattern);
    if (handler === undefined) {
      handler = super.getHandlerByPattern(pattern);
      this.routes.set(pattern, handler);
    }
    return handler;
  }
}
