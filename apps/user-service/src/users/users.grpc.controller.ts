import { Controller } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { UsersReader } from './users.reader';

/** `users.v1.UserService` over gRPC, from the read model. */
@Controller()
export class UsersGrpcController {
  constructor(private readonly users: UsersReader) {}

  @GrpcMethod('UserService', 'GetUser')
  async getUser(request: { id: string }): Promise<Record<string, string>> {
    const user = await this.users.findById(request.id ?? '');
    if (!user) throw new RpcException({ code: status.NOT_FOUND, message: `no user ${request.id}` });
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      source_lsn: user.sourceLsn,
      updated_at: user.updatedAt,
    };
  }
}
