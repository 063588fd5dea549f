/**
 * The loop of a job worker (member imports, WeCom batch jobs): it looks for a job and runs it;
 * when there was none it sleeps until the poll interval passes or it is nudged (a job was queued
 * in this process). Stopping wakes it and waits for the job in hand; a stopping loop never
 * starts another sleep.
 */
export class JobPollLoop {
  private stopping = false;
  private loop?: Promise<void>;
  private pending = false;
  private wakeUp: () => void = () => undefined;

  constructor(
    private readonly intervalMs: number,
    /** Claims and runs one job; false when there was none. */
    private readonly step: () => Promise<boolean>,
    private readonly onError: (error: unknown) => void,
  ) {}

  get stopped(): boolean {
    return this.stopping;
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wakeUp();
    await this.loop;
  }

  /** Look now rather than at the next poll. */
  nudge(): void {
    this.pending = true;
    this.wakeUp();
  }

  /** One interval (or until nudged or stopped): a back-off before a failed job is claimed again. */
  pause(): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleep();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let claimed = false;
      try {
        this.pending = false;
        claimed = await this.step();
      } catch (error) {
        this.onError(error);
      }
      if (!claimed && !this.pending && !this.stopping) await this.sleep();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wakeUp(), this.intervalMs);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = () => undefined;
        resolve();
      };
    });
  }
}
