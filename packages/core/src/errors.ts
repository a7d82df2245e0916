/**
 * Typed errors. Every error Dataloom throws on bad input is a {@link DataloomError} with a stable
 * `code` (namespaced like DataScript's `:transact/syntax`), the offending `form` where there is one,
 * and a readable message. Errors survive structured cloning / the wire through {@link toWire}.
 */
export class DataloomError extends Error {
  /** Stable, namespaced code, e.g. `edn/syntax`, `transact/unique`, `query/unbound-variable`. */
  readonly code: string;
  /** Extra context: the offending form, attribute, position, … */
  readonly data: Record<string, unknown>;
  constructor(code: string, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = 'DataloomError';
    this.code = code;
    this.data = data;
  }
  /** A plain object that can cross `postMessage` or a WebSocket. */
  toWire(): { code: string; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: safeData(this.data) };
  }
  static fromWire(w: { code: string; message: string; data?: Record<string, unknown> }): DataloomError {
    return new DataloomError(w.code, w.message, w.data ?? {});
  }
}

function safeData(data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    out[k] = typeof v === 'object' && v !== null ? String(v) : v;
  }
  return out;
}

export function isDataloomError(x: unknown): x is DataloomError {
  return x instanceof DataloomError;
}
