/**
 * One PostgreSQL transaction on a client of the pool: `begin` (plain `BEGIN` unless the caller
 * takes its locks or settings in the same round trip), then `body`, then `COMMIT`; on any error
 * `ROLLBACK` and the error thrown on; the client goes back to the pool either way. The log store
 * and the PostgreSQL source's installer use it.
 */
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, body: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query(begin);
    const out = await body(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}
