import { makeCounterProvider } from '@willsoto/nestjs-prometheus';

/** CDC messages skipped without a write, by reason (tombstone, not_json, too_large, …). */
export const CDC_SKIPPED_METRIC = 'user_service_cdc_skipped_total';

/** CDC changes written to the database, by op. */
export const CDC_APPLIED_METRIC = 'user_service_cdc_applied_total';

/** @internal */
export const cdcMetricProviders = [
  makeCounterProvider({
    name: CDC_SKIPPED_METRIC,
    help: 'CDC messages skipped without a database write, by reason',
    labelNames: ['topic', 'reason'],
  }),
  makeCounterProvider({
    name: CDC_APPLIED_METRIC,
    help: 'CDC changes applied to the users read model and user_events',
    labelNames: ['topic', 'op'],
  }),
];
