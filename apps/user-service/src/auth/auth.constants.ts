/** Name of the gRPC pool to auth-service (`@InjectGrpcPool(AUTH_POOL)`, metric label `pool`). */
export const AUTH_POOL = 'auth';
