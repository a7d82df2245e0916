/**
 * The replica's side of the worker RPC: one endpoint method per entry of the method table
 * (`methods.ts`), each running its {@link ClientService} method through `rpc.ts`, plus `open`.
 * A Web Worker exposes one with comlink (`worker.ts`); in-process clients call one directly.
 */
import type { Encoded } from './codec.js';
import { decode } from './codec.js';
import { METHODS, type MethodName } from './methods.js';
import { serveMethod } from './rpc.js';
import { ClientService } from './service.js';
import type { ClientOptions } from './types.js';

/** Options that can cross a thread boundary (no functions or constructors). */
export type HostOptions = Omit<ClientOptions, 'token' | 'WebSocket' | 'store'> & { token?: string | null };

/** The endpoint: `open`, then the table's methods (arguments and results encoded). */
export type Host = {
  /**
   * Opens the client service (call once); resolves when the replica can answer queries
   * (`Replica.readable`; writes queue behind the load). `extra` carries non-cloneable options
   * in-process.
   */
  open(options: Encoded, extra?: Partial<ClientOptions>): Promise<void>;
} & Record<MethodName, (...args: unknown[]) => Promise<Encoded>>;

/** A new endpoint; `onOpen` sees the service it opens (in-process test access). */
export function createHost(onOpen?: (service: ClientService) => void): Host {
  let service: ClientService | null = null;
  const current = (): ClientService => {
    if (!service) throw new Error('client not open');
    return service;
  };
  const host: Record<string, unknown> = {
    async open(options: Encoded, extra: Partial<ClientOptions> = {}) {
      service = new ClientService({ ...(decode(options) as HostOptions), ...extra });
      onOpen?.(service);
      await service.readable;
    },
  };
  for (const name of Object.keys(METHODS) as MethodName[]) {
    const call = serveMethod((...args) => {
      const s = current();
      return (s[name] as (...a: unknown[]) => unknown).apply(s, args);
    });
    host[name] = name === 'close' ? (...args: unknown[]) => (service ? call(...args) : Promise.resolve(undefined)) : call;
  }
  return host as Host;
}
