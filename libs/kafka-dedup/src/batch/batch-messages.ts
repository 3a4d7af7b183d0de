import { KafkaHeaders } from '@nestjs/microservices';
import type { KafkaMessage } from 'kafkajs';

/** kafkajs' `KafkaJSError` class. @internal */
export type KafkaJSErrorClass = new (
  message: string,
  properties?: { retriable?: boolean },
) => Error;

/** Small helpers of batch mode's server: requests, key texts, error texts. @internal */

/** Whether `message` is a request (Nest's correlation id and reply topic headers). @internal */
export function isRequest(message: KafkaMessage): boolean {
  const headers = message.headers;
  return (
    headers !== undefined &&
    headers[KafkaHeaders.CORRELATION_ID] !== undefined &&
    headers[KafkaHeaders.REPLY_TOPIC] !== undefined
  );
}

/** One text per key: copies of an id inside a batch share it. @internal */
export function keyText(scope: string, id: string | Buffer): string {
  return typeof id === 'string' ? `${scope}\u0000s${id}` : `${scope}\u0000b${id.toString('hex')}`;
}

/** An error as text, with its stack. @internal */
function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

/** The first line of `text`. @internal */
function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

/**
 * Logs a handler failure once (`where`: topic, partition, offset; the error) and answers what to
 * throw to kafkajs so it redelivers from that offset after its retry back-off: a retriable
 * KafkaJSError, which kafkajs does not log a second time. @internal
 */
export function handlerFailure(
  logger: { error(message: string): unknown },
  KafkaJSError: KafkaJSErrorClass | undefined,
  where: string,
  error: unknown,
): Error {
  const text = describe(error);
  logger.error(`handler failed on ${where}: ${text}`);
  return KafkaJSError
    ? new KafkaJSError(`handler failed on ${where}: ${firstLine(text)}`, { retriable: true })
    : error instanceof Error
      ? error
      : new Error(text);
}
