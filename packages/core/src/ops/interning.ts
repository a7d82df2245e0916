/**
 * Entity ids are global strings on disk and on the wire (`<replica>.<…>`); inside a database value
 * they are interned to small integers, in order of first appearance, for the interner's lifetime
 * (a replica's; the server's permission engine's).
 */
import { Datom, TX0, type Db } from '../db/types.js';
import { initDb } from '../db/database.js';
import { kw } from '../edn/types.js';
import type { GlobalId } from './types.js';
import type { DatomChange, VisibleDatom } from './types.js';
import { fromWireValue } from './value.js';

export class Interner {
  private readonly eids = new Map<GlobalId, number>();
  private readonly gids: GlobalId[] = [''];
  /** `eid` as a free function (for `fromWireValue` and `translateTx`). */
  readonly eidOf = (gid: GlobalId): number => this.eid(gid);

  /** Integer id of a global id (allocating one if new). */
  eid(gid: GlobalId): number {
    let n = this.eids.get(gid);
    if (n === undefined) {
      n = this.gids.length;
      this.gids.push(gid);
      this.eids.set(gid, n);
    }
    return n;
  }

  /** Global id of an integer entity id, or null. */
  gid(eid: number): GlobalId | null {
    return this.gids[eid] ?? null;
  }

  /** A datom's value as the database holds it (refs as integer ids). */
  value(c: VisibleDatom): unknown {
    return fromWireValue(c.v, this.eidOf);
  }

  /** A visible change as a database datom of tx `txId`. */
  datom(c: DatomChange, txId: number): Datom {
    return new Datom(this.eid(c.e), kw(c.a), this.value(c) as never, txId, c.added);
  }

  /** A database holding exactly `datoms` (history views: `asOf`, `since`). */
  db(datoms: Iterable<VisibleDatom>, schema: unknown): Db {
    const out: Datom[] = [];
    for (const d of datoms) out.push(new Datom(this.eid(d.e), kw(d.a), this.value(d) as never, TX0 + 1, true));
    return initDb(out, schema as never);
  }
}
