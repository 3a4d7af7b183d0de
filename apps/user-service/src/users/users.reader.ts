import { Injectable } from '@nestjs/common';
import { eq } from 'drizzle-orm';
import { UserServiceDatabase } from '../database/user-service.database';
import { users } from '../database/users.schema';

/** A user of the read model, as the HTTP and gRPC APIs return it. */
export interface UserView {
  id: string;
  email: string;
  name: string;
  sourceLsn: string;
  updatedAt: string;
}

/** Reads the `users` read model. */
@Injectable()
export class UsersReader {
  constructor(private readonly database: UserServiceDatabase) {}

  async findById(id: string): Promise<UserView | undefined> {
    const [row] = await this.database.db.select().from(users).where(eq(users.id, id)).limit(1);
    if (!row) return undefined;
    return {
      id: row.id,
      email: row.email ?? '',
      name: row.name ?? '',
      sourceLsn: row.sourceLsn.toString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}
