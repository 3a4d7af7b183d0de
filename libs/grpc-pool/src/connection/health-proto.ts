import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

/**
 * The standard health service (grpc/health/v1/health.proto), built in so users need no extra
 * proto file. @internal
 */
const HEALTH_PROTO = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: 'ServingStatus', id: 1 } },
                  nested: {
                    ServingStatus: {
                      values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 },
                    },
                  },
                },
                Health: {
                  methods: {
                    Check: {
                      requestType: 'HealthCheckRequest',
                      responseType: 'HealthCheckResponse',
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

const definition = loadPackageDefinition(
  fromJSON(HEALTH_PROTO as Parameters<typeof fromJSON>[0], { enums: String, defaults: true }),
) as unknown as {
  grpc: { health: { v1: { Health: ServiceClientConstructor } } };
};

/** Client constructor of `grpc.health.v1.Health`. @internal */
export const HEALTH_CHECK_SERVICE = definition.grpc.health.v1.Health;
