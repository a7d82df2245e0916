/**
 * The thread-boundary API over {@link ClientCore}: every argument and result is encoded with the
 * codec (so keywords, maps and sets survive structured cloning). A Web Worker exposes one with
 * comlink (`worker.ts`); in-process clients call one directly.
 */
import { DataloomError, type HlcString } from '@dataloom/core';
import { ClientCore, type ClientEvent, type ClientOptions, type TransactResult } from './core.js';
import { decode, encode, type Encoded } from './codec.js';
import type { DiffBatch, WatchInit } from './mirror.js';

/** Options that can cross a thread boundary (no functions or constructors). */
export type HostOptions = Omit<ClientOptions, 'token' | 'WebSocket' | 'store'> & { token?: string | null };

export class Host {
  private core: ClientCore | null = null;

  /** Opens the client core (call once). `extra` carries non-cloneable options in-process. */
  /** Resolves when the replica can answer queries (`Replica.readable`); writes queue behind the load. */
  async open(options: HostOptions, extra: Partial<ClientOptions> = {}): Promise<void> {
    this.core = new ClientCore({ ...options, schema: decode(options.schema as Encoded), ...extra });
    await this.core.readable;
  }
  /** Resolves when the replica has fully loaded (op set merged). */
  loaded(): Promise<void> {
    return this.c().ready;
  }

  private c(): ClientCore {
    if (!this.core) throw new Error('client not open');
    return this.core;
  }

  /** In-process access to the core (not available across threads). */
  coreForTests(): ClientCore {
    return this.c();
  }

  transact(tx: Encoded, options: { draft?: string } = {}): Promise<TransactResult> {
    return this.c().transact(decode(tx), options);
  }
  confirmed(tx: HlcString): Promise<void> {
    return this.c().confirmed(tx);
  }
  async q(query: Encoded, inputs: Encoded[]): Promise<Encoded> {
    return encode(await this.c().q(decode(query), inputs.map(decode)));
  }
  async pull(pattern: Encoded, eid: Encoded): Promise<Encoded> {
    return encode(await this.c().pull(decode(pattern), decode(eid)));
  }
  async pullMany(pattern: Encoded, eids: Encoded[]): Promise<Encoded> {
    return encode(await this.c().pullMany(decode(pattern), eids.map(decode)));
  }
  async entity(eid: Encoded): Promise<Encoded> {
    return encode(await this.c().entity(decode(eid)));
  }
  globalId(eid: number): Promise<string | null> {
    return this.c().globalId(eid);
  }
  async watch(query: Encoded, inputs: Encoded[], sink: (b: Encoded) => void): Promise<{ id: number; init: Encoded }> {
    const { id, init } = await this.c().watch(decode(query), inputs.map(decode), (b: DiffBatch) => sink(encode(b)));
    return { id, init: encode(init as WatchInit) };
  }
  streamDatoms(sink: (rows: Encoded, initial: boolean) => void): Promise<number> {
    return this.c().streamDatoms((rows, initial) => sink(encode(rows), initial));
  }
  unstreamDatoms(id: number): void {
    this.c().unstreamDatoms(id);
  }
  unwatch(id: number): void {
    this.c().unwatch(id);
  }
  async asOf(t: HlcString | number, query: Encoded, inputs: Encoded[]): Promise<Encoded> {
    return encode(await this.c().asOf(t, decode(query), inputs.map(decode)));
  }
  async since(t: HlcString | number, query: Encoded, inputs: Encoded[]): Promise<Encoded> {
    return encode(await this.c().since(t, decode(query), inputs.map(decode)));
  }
  async history(): Promise<Encoded> {
    return encode(await this.c().history());
  }
  async historyQ(query: Encoded, inputs: Encoded[]): Promise<Encoded> {
    return encode(await this.c().historyQ(decode(query), inputs.map(decode)));
  }
  textOpen(eid: Encoded, attr: string, sink: (u: Uint8Array) => void) {
    return this.c().textOpen(decode(eid), attr, sink);
  }
  textUpdate(gid: string, a: string, update: Uint8Array): Promise<void> {
    return this.c().textUpdate(gid, a, update);
  }
  textClose(key: string): void {
    this.c().textClose(key);
  }
  events(sink: (e: ClientEvent) => void): void {
    this.c().events(sink);
  }
  syncStatus() {
    return this.c().syncStatus();
  }
  whenSynced(): Promise<void> {
    return this.c().whenSynced();
  }
  storageKind(): Promise<string> {
    return this.c().storageKind();
  }
  async close(): Promise<void> {
    await this.core?.close();
  }
}

// Typed errors cross the boundary as plain `{code, message, data}` objects (comlink keeps only the
// message of Error instances); `createClient` turns them back into `DataloomError`s.
for (const name of Object.getOwnPropertyNames(Host.prototype)) {
  if (name === 'constructor' || name === 'coreForTests' || name === 'c') continue;
  const fn = (Host.prototype as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!;
  (Host.prototype as unknown as Record<string, unknown>)[name] = async function (this: Host, ...args: unknown[]) {
    try {
      return await fn.apply(this, args);
    } catch (e) {
      if (e instanceof DataloomError) throw e.toWire();
      throw e;
    }
  };
}
