/**
 * One PostgreSQL transaction on a client of the pool: `begin` (plain `BEGIN` unless the caller
 * takes its locks or settings in the same round trip), then `body`, then `COMMIT`; on any error
 * `ROLLBACK` and the error thrown on; the client goes back to the pool either way (discarded when
 * its connection broke or the ROLLBACK failed). The log store and the PostgreSQL source's installer use it.
 *
 * A checked-out client whose connection breaks (backend terminated, network) emits `error` besides
 * failing its query; the pool listens only to idle clients, so without a listener here that event
 * was an uncaught exception that took the whole server down instead of failing one append.
 */
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, body: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const c = await pool.connect();
  let broken: Error | undefined;
  const onError = (e: Error) => {
    broken = e;
  };
  c.on('error', onError);
  try {
    await c.query(begin);
    const out = await body(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch((re: Error) => {
      broken ??= re;
    });
    throw e;
  } finally {
    c.off('error', onError);
    c.release(broken);
  }
}
