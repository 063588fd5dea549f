import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { LOGGER, type Logger } from '@qiwei/platform';
import { MESSAGING_CONFIG, type MessagingConfig } from '../config';
import { AnnouncementsService } from './announcements.service';

/** Announcements published, archived or reminded per pass, so one pass never runs for long. */
const PER_PASS = 100;

/**
 * Publishes scheduled announcements when their time comes, archives those whose expiry has
 * passed and re-notifies the unread of important ones when their automatic reminder is due. Every instance runs it every ANNOUNCEMENT_SCHEDULER_INTERVAL_MS; the state lives in the
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
    try {
      for (let n = 0; n < PER_PASS && !this.stopped; n++) {
        const step = await this.announcements.publishNextDue();
        if (step.outcome === 'none') break;
        // A failed one waits for its retry time; the others due go on.
        if (step.outcome === 'failed')
          this.logger.error(
            { err: step.error, announcement: step.id },
            'announcements: could not publish one; it is tried again after a backoff',
          );
      }
      for (let n = 0; n < PER_PASS && !this.stopped; n++)
        if (!(await this.announcements.expireNext())) break;
      for (let n = 0; n < PER_PASS && !this.stopped; n++)
        if (!(await this.announcements.remindNextDue())) break;
    } catch (error) {
      this.logger.error({ err: error }, 'announcements: scheduler pass failed; tried again later');
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
