import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@qiwei/platform';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { AnnouncementsService } from './announcements.service';

/** Announcements published or archived per pass, so one pass never runs for long. */
const PER_PASS = 100;

/**
 * Publishes scheduled announcements when their time comes and archives those whose expiry has
 * passed. Every instance runs it every ANNOUNCEMENT_SCHEDULER_INTERVAL_MS; the state lives in the
 * database (nothing is kept in memory, so a restart loses nothing), and each announcement is
 * claimed with FOR UPDATE SKIP LOCKED in the transaction that publishes it, so with any number
 * of instances each is published exactly once.
 */
@Injectable()
export class AnnouncementScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly announcements: AnnouncementsService,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: everything due (up to PER_PASS of each kind). */
  async pass(): Promise<void> {
    for (const [step, what] of [
      [() => this.announcements.publishNextDue(), 'publish'],
      [() => this.announcements.expireNext(), 'archive'],
    ] as const) {
      for (let n = 0; n < PER_PASS && !this.stopped; n++) {
        try {
          if (!(await step())) break;
        } catch (error) {
          this.logger.error(
            { err: error },
            `announcements: could not ${what} one; tried again later`,
          );
          break;
        }
      }
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() =>
        this.schedule(this.config.ANNOUNCEMENT_SCHEDULER_INTERVAL_MS),
      );
    }, delayMs);
    this.timer.unref();
  }
}
