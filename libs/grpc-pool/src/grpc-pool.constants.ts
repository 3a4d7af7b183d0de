/** Prometheus metric names. */
export const GRPC_POOL_METRICS = {
  connectionSwitched: 'grpc_connection_switched_total',
  fallbackRetry: 'grpc_fallback_retry_total',
  requests: 'grpc_pool_requests_total',
  duration: 'grpc_pool_request_duration_seconds',
  healthyConnections: 'grpc_pool_healthy_connections',
  circuitState: 'grpc_pool_circuit_state',
  budgetExhausted: 'grpc_pool_retry_budget_exhausted_total',
  ejections: 'grpc_pool_ejections_total',
  hedges: 'grpc_pool_hedged_attempts_total',
  endpoints: 'grpc_pool_endpoints',
  connections: 'grpc_pool_connections',
  resolutions: 'grpc_pool_resolutions_total',
  resizes: 'grpc_pool_resizes_total',
} as const;
