import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';

// serialization_failure, deadlock_detected: the transaction can simply be run again.
const RETRIABLE_SQLSTATES = new Set(['40001', '40P01']);

/** Runs a whole transaction, again (up to `attempts` in all) after a serialization failure or deadlock. */
export async function retryingSerializationFailures<T>(
  attempts: number,
  transaction: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || !code || !RETRIABLE_SQLSTATES.has(code)) throw error;
    }
  }
}

@Injectable()
export class TransactionRunner {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` in one transaction; retries it a few times on serialization failures. */
  async run<T>(
    work: (manager: EntityManager) => Promise<T>,
    options: { isolation?: IsolationLevel; attempts?: number } = {},
  ): Promise<T> {
    // READ COMMITTED is every connection's default (see createDataSource): asking for it
    // again would cost a `SET TRANSACTION` round trip per transaction.
    const isolation = options.isolation ?? 'READ COMMITTED';
    return retryingSerializationFailures(options.attempts ?? 3, () =>
      isolation === 'READ COMMITTED'
        ? this.dataSource.transaction(work)
        : this.dataSource.transaction(isolation, work),
    );
  }
}

/** PostgreSQL's unique_violation, optionally on a given constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const code = e.code ?? e.driverError?.code;
  const name = e.constraint ?? e.driverError?.constraint;
  return code === '23505' && (!constraint || name === constraint);
}
