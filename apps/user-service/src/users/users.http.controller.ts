import {
  Controller,
  Get,
  Headers,
  NotFoundException,
  Param,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import { AuthGateway, type VerifiedToken } from '../auth/auth.gateway';
import { UsersReader, type UserView } from './users.reader';

/** `GET /users/:id`: the caller's bearer token is verified by auth-service, then the read model answers. */
@Controller('users')
export class UsersHttpController {
  constructor(
    private readonly auth: AuthGateway,
    private readonly users: UsersReader,
  ) {}

  @Get(':id')
  async getUser(
    @Param('id') id: string,
    @Headers('authorization') authorization?: string,
  ): Promise<UserView> {
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) throw new UnauthorizedException('missing bearer token');
    let verified: VerifiedToken;
    try {
      verified = await this.auth.verify(token);
    } catch (error) {
      // The pool's error names the pool (and says whether any backend answered).
      throw new ServiceUnavailableException(
        `auth unavailable (grpc pool "${this.auth.pool.name}"): ${(error as Error).message}`,
      );
    }
    if (!verified.valid) throw new UnauthorizedException('invalid token');
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundException(`no user ${id}`);
    return user;
  }
}
