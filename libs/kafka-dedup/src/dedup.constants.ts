/** Injection token of the resolved (validated, defaults merged) module options. @internal */
export const DEDUP_RESOLVED_OPTIONS = 'KAFKA_DEDUP:RESOLVED_OPTIONS';
/** Whether `applyToAllHandlers` was given when the module was declared. @internal */
export const DEDUP_APPLY_TO_ALL = 'KAFKA_DEDUP:APPLY_TO_ALL_HANDLERS';
/** Metadata key set by `@Deduplicate()`. @internal */
export const DEDUP_HANDLER_METADATA = 'KAFKA_DEDUP:HANDLER_OPTIONS';
/** Name of the TTL sweep job registered in `SchedulerRegistry`. */
export const DEDUP_CLEANUP_JOB = 'kafka-dedup:ttl-sweep';
/** Header read by default for the event id. */
export const DEFAULT_DEDUP_HEADER = 'x-event-id';

/** Prometheus metric names. */
export const DEDUP_METRICS = {
  processed: 'kafka_events_processed_total',
  deduplicated: 'kafka_event_deduplicated_total',
  inFlightConflicts: 'kafka_dedup_in_flight_conflicts_total',
  storeErrors: 'kafka_dedup_store_errors_total',
  missingKeys: 'kafka_dedup_missing_key_total',
  evictions: 'kafka_dedup_evictions_total',
  liveEntries: 'kafka_dedup_live_entries',
  cleanupDuration: 'kafka_dedup_cleanup_duration_seconds',
  windowSeconds: 'kafka_dedup_window_seconds',
  windowReliable: 'kafka_dedup_window_reliable',
  earlyEvictions: 'kafka_dedup_early_evictions_total',
  duplicateAge: 'kafka_dedup_duplicate_age_seconds',
  ttlSeconds: 'kafka_dedup_ttl_seconds',
} as const;
