/**
 * Group commit: callers that ask for a flush while one is running share the next run, so N
 * concurrent acks=-1 produces cost two fsyncs, not N. A caller's promise resolves only after a
 * run that started after the call, so everything written before the call is covered.
 */
export class CoalescedFlush {
  private running: Promise<void> | null = null;
  private queued: Promise<void> | null = null;

  constructor(private readonly run: () => Promise<void>) {}

  flush(): Promise<void> {
    if (this.queued) return this.queued;
    if (this.running) {
      this.queued = this.running
        .catch(() => undefined)
        .then(() => {
          this.queued = null;
          return this.start();
        });
      return this.queued;
    }
    return this.start();
  }

  private start(): Promise<void> {
    const current = this.run().finally(() => {
      if (this.running === current) this.running = null;
    });
    this.running = current;
    return current;
  }
}
