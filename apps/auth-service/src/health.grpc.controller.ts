import { Controller } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';

/** `HealthCheckResponse.ServingStatus`. */
const SERVING = 1;
const SERVICE_UNKNOWN = 3;

/**
 * `grpc.health.v1.Health/Check`: SERVING for the whole server (`""`) and for `auth.v1.AuthService`,
 * so a client's health checks eject a connection to a process that stops answering.
 */
@Controller()
export class HealthGrpcController {
  @GrpcMethod('Health', 'Check')
  check(request: { service?: string }): { status: number } {
    const service = request.service ?? '';
    return {
      status: service === '' || service === 'auth.v1.AuthService' ? SERVING : SERVICE_UNKNOWN,
    };
  }
}
