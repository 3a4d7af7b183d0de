import { uniqueTopic } from './kcat';

/**
 * The CDC topic of an in-process user-service suite. Set in the environment by this module, which
 * the suite imports before the app: the consumer's `@EventPattern` reads CDC_TOPIC when its class
 * is defined.
 */
export const CDC_TOPIC = uniqueTopic('cdc.users');
process.env.CDC_TOPIC = CDC_TOPIC;
