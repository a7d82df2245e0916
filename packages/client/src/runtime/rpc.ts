/**
 * How one call of the method table (`methods.ts`) crosses the thread boundary, both ways:
 * arguments and results through the codec (so keywords, maps and sets survive structured
 * cloning), function arguments as callbacks (their arguments and results through the codec as well), and
 * typed errors as plain `{code, message, data}` objects (comlink keeps only the message of
 * `Error` instances) turned back into `DataloomError`s on the calling side.
 */
import { DataloomError } from '@dataloom/core';
import { decode, encode, type Encoded } from './codec.js';
import { METHODS, type MethodName, type ServiceApi } from './methods.js';

type Fn = (...a: unknown[]) => unknown;

/** The replica side of one method: decode the arguments, run `fn`, encode the result. */
export function serveMethod(fn: Fn): (...args: unknown[]) => Promise<Encoded> {
  return async (...args) => {
    try {
      const decoded = args.map((a) => (typeof a === 'function' ? (...xs: unknown[]) => settle((a as Fn)(...xs.map((x) => encode(x))), decode) : decode(a)));
      return encode(await fn(...decoded));
    } catch (e) {
      if (e instanceof DataloomError) throw e.toWire();
      throw e;
    }
  };
}

/**
 * A callback's result through `f` (the codec): callbacks may answer (a business rule returns tx
 * data, possibly as a promise); a callback that answers nothing stays synchronous.
 */
function settle(r: unknown, f: (x: unknown) => unknown): unknown {
  if (r === undefined) return undefined;
  if (r !== null && typeof (r as PromiseLike<unknown>).then === 'function') return Promise.resolve(r).then(f);
  return f(r);
}

/** A typed error in its wire form back to a `DataloomError`; anything else as it is. */
export function rethrow(e: unknown): never {
  if (e instanceof DataloomError) throw e;
  const w = e as { code?: unknown; message?: string; data?: Record<string, unknown> };
  if (w && typeof w.code === 'string') throw new DataloomError(w.code, w.message ?? '', w.data ?? {});
  throw e;
}

/**
 * Methods that only let go of something (a watch, a scope, a listener): after the client closed
 * there is nothing left to let go of, so they do nothing instead of failing.
 */
const RELEASES: ReadonlySet<MethodName> = new Set<MethodName>(['unwatch', 'unsubscribe', 'unregister', 'unstreamDatoms', 'textClose', 'draftUnwatch', 'undoUnwatch']);

/**
 * The calling side of the whole table over `target` (a comlink remote of the host, or the host
 * itself in-process). Every call waits for `opened` first; `callback` prepares a function argument
 * for the crossing (`Comlink.proxy` across threads, nothing in-process). Once `closed()` says so
 * (the client's `close()` began), a release (`unwatch`, … — a React hook unmounting after its
 * client closed) resolves without crossing and any other call rejects with `replica/closed`
 * naming the method, instead of reaching a released comlink proxy ("Proxy has been released").
 */
export function connect(
  target: Record<MethodName, (...a: unknown[]) => Promise<unknown>>,
  opened: Promise<unknown>,
  callback: (f: Fn) => Fn,
  closed: () => boolean = () => false,
): ServiceApi {
  const api: Record<string, unknown> = {};
  for (const name of Object.keys(METHODS) as MethodName[]) {
    api[name] = async (...args: unknown[]) => {
      await opened;
      if (closed()) {
        if (RELEASES.has(name)) return undefined;
        throw new DataloomError('replica/closed', `the client is closed: ${name}() after close()`, { method: name });
      }
      const encoded = args.map((a) => (typeof a === 'function' ? callback((...xs: unknown[]) => settle((a as Fn)(...xs.map(decode)), encode)) : encode(a)));
      return decode(await target[name](...encoded).catch(rethrow));
    };
  }
  return api as ServiceApi;
}
