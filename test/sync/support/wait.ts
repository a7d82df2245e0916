/**
 * Waiting in tests: one home for the polling `until`, the `within` timeout and `sleep` that test
 * files (test/, packages/*, bench/) import as `@dataloom/test/sync/support/wait.js`.
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `cond` (sync or async) every `everyMs` until it holds; throws `timed out: <what>` when it
 * still does not after `ms`.
 */
export async function until(cond: () => boolean | Promise<boolean>, what = 'condition', ms = 10_000, everyMs = 10): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(everyMs);
  }
}

/** `p`, or a rejection `timed out after <ms> ms: <what>` if it has not settled by then. */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t!);
  }
}
