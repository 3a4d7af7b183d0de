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

/**
 * Nest's `ServerKafka` with {@link BinarySafeKafkaParser}: binary event ids reach the
 * deduplicator as their raw bytes. Use it as a custom transport strategy.
 *
 * @example
 * app.connectMicroservice({ strategy: new BinarySafeServerKafka({ client: { brokers }, consumer: { groupId } }) });
 */
export class BinarySafeServerKafka extends ServerKafka {
  constructor(options: Required<KafkaOptions>['options']) {
    super(options);
    this.parser = new BinarySafeKafkaParser(options?.parser);
  }
}
