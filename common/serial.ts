/** Runs async work one piece after another, in the order it was given; a failure does not stop the queue. */
export class Serial {
  private queue: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const p = this.queue.then(work);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
