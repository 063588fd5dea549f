import { Injectable } from '@nestjs/common';

export type ReadinessCheck = () => Promise<void>;

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { status: 'up' | 'down'; error?: string }>;
}

/**
 * What `/health/ready` asks. Infrastructure modules (database, Kafka) register their checks;
 * during shutdown the service reports not-ready so load balancers stop sending traffic.
 */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, ReadinessCheck>();
  private shuttingDown = false;

  register(name: string, check: ReadinessCheck): void {
    this.checks.set(name, check);
  }

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async readiness(timeoutMs = 2_000): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          await withTimeout(check(), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
          return [name, { status: 'up' as const }] as const;
        } catch (error) {
          return [name, { status: 'down' as const, error: (error as Error).message }] as const;
        }
      }),
    );
    const checks: ReadinessReport['checks'] = Object.fromEntries(
      entries,
    ) as ReadinessReport['checks'];
    if (this.shuttingDown) checks.shutdown = { status: 'down', error: 'shutting down' };
    return { ready: Object.values(checks).every((c) => c.status === 'up'), checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
