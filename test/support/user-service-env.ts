import { uniqueTopic } from './kcat';

/**
 * The topic the user-service suite consumes. Set in the environment by this module, which the
 * suite imports before the app: the controller reads USER_EVENTS_TOPIC when its module loads.
 */
export const USER_EVENTS_TOPIC = uniqueTopic('user-events');
process.env.USER_EVENTS_TOPIC = USER_EVENTS_TOPIC;
