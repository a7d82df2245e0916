/** Runs async tasks one at a time, in submission order. A failing task does not stop later ones. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const p = this.tail.then(task, task);
    this.tail = p.catch(() => {});
    return p;
  }
  /** Resolves when every task submitted so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => {});
  }
}
