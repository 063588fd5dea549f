import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TransactionRunner } from '@qiwei/persistence';
import { LOGGER, type Logger } from '@qiwei/platform';
import { MessagesRepository } from '../messages/messages.repository';

const BATCH = 500;
const RETRY_MS = 5_000;

/**
 * Indexes, in the background, messages sent before member search existed (new messages are
 * indexed as they are sent), in batches of their own transactions; several instances share the
 * work (rows others hold are skipped). Until it has caught up, older messages are found by
 * sender, type and time but not yet by keyword. Once nothing is left it stops.
 */
@Injectable()
export class SearchIndexer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stopping = false;
  private running?: Promise<void>;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly messages: MessagesRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  private async run(): Promise<void> {
    let indexed = 0;
    while (!this.stopping) {
      try {
        const corps = await this.transactions.run((em) => this.messages.corpsToIndex(em, 100));
        if (!corps.length) break;
        let progress = 0;
        for (const corpId of corps) {
          let done: number;
          do {
            if (this.stopping) return;
            done = await this.transactions.run((em) => this.messages.indexSome(em, corpId, BATCH));
            progress += done;
          } while (done === BATCH);
        }
        indexed += progress;
        // Everything left is held by another instance's batch: let it finish.
        if (!progress) await this.pause();
      } catch (error) {
        this.logger.warn({ err: error }, 'search indexer: batch failed; retrying');
        await this.pause();
      }
    }
    if (indexed) this.logger.info({ indexed }, 'search indexer: older messages indexed');
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
  }
}
