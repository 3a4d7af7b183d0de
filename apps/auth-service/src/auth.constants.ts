/** Injection token of the validated {@link AuthServiceConfig}. */
export const AUTH_SERVICE_CONFIG = 'AUTH_SERVICE:CONFIG';
