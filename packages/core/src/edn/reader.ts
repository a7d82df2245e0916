import { DataloomError } from '../errors.js';
import { type EdnValue, kw, List, sym, Tagged, Uuid } from './types.js';

/** Options for {@link parseEdn}. */
export interface ReadOptions {
  /** Handlers for tagged literals beyond `#inst` and `#uuid`. */
  tags?: Record<string, (value: EdnValue) => EdnValue>;
  /** Maximum nesting depth (default 1000): deeper input is rejected with `edn/too-deep`. */
  maxDepth?: number;
}

const DELIMS = new Set(['(', ')', '[', ']', '{', '}', '"', ';', ' ', '\t', '\n', '\r', ',', '\f']);

/**
 * Reads exactly one EDN value from `text`. Throws {@link DataloomError} with code `edn/syntax`
 * (and `data.position`) on malformed input, `edn/eof` when the input ends inside a form,
 * `edn/too-deep` past `maxDepth`.
 */
export function parseEdn(text: string, opts: ReadOptions = {}): EdnValue {
  const r = new Reader(text, opts);
  r.skipWs();
  if (r.pos >= text.length) throw new DataloomError('edn/eof', 'EDN input is empty', { position: 0 });
  const v = r.read(0);
  r.skipWs();
  if (r.pos < text.length) {
    throw r.error(`Unexpected trailing input after the first form: ${JSON.stringify(text.slice(r.pos, r.pos + 20))}`);
  }
  return v;
}

/** Reads every top-level EDN value in `text`. */
export function parseEdnAll(text: string, opts: ReadOptions = {}): EdnValue[] {
  const r = new Reader(text, opts);
  const out: EdnValue[] = [];
  for (;;) {
    r.skipWs();
    if (r.pos >= text.length) return out;
    out.push(r.read(0));
  }
}

const DISCARD = Symbol('discard');

class Reader {
  pos = 0;
  private readonly maxDepth: number;
  constructor(
    private readonly s: string,
    private readonly opts: ReadOptions,
  ) {
    this.maxDepth = opts.maxDepth ?? 1000;
  }

  error(msg: string, code = 'edn/syntax'): DataloomError {
    const { line, col } = this.lineCol(this.pos);
    return new DataloomError(code, `${msg} (EDN line ${line}, column ${col})`, { position: this.pos, line, column: col });
  }

  private lineCol(pos: number): { line: number; col: number } {
    let line = 1;
    let last = -1;
    for (let i = 0; i < pos && i < this.s.length; i++) {
      if (this.s.charCodeAt(i) === 10) {
        line++;
        last = i;
      }
    }
    return { line, col: pos - last };
  }

  skipWs(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s[this.pos];
      if (c === ' ' || c === ',' || c === '\n' || c === '\t' || c === '\r' || c === '\f') this.pos++;
      else if (c === ';') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else break;
    }
  }

  read(depth: number): EdnValue {
    for (;;) {
      const v = this.readOne(depth);
      if (v !== DISCARD) return v as EdnValue;
      this.skipWs();
      if (this.pos >= this.s.length) throw this.error('Input ended after #_ discard', 'edn/eof');
    }
  }

  private readOne(depth: number): EdnValue | typeof DISCARD {
    if (depth > this.maxDepth) throw this.error(`EDN nested deeper than ${this.maxDepth}`, 'edn/too-deep');
    const s = this.s;
    if (this.pos >= s.length) throw this.error('Unexpected end of EDN input', 'edn/eof');
    const c = s[this.pos];
    switch (c) {
      case '[':
        this.pos++;
        return this.readSeq(']', depth);
      case '(':
        this.pos++;
        return new List(this.readSeq(')', depth));
      case '{': {
        this.pos++;
        const items = this.readSeq('}', depth);
        if (items.length % 2 !== 0) throw this.error('Map literal must contain an even number of forms');
        const m = new Map<EdnValue, EdnValue>();
        for (let i = 0; i < items.length; i += 2) m.set(items[i], items[i + 1]);
        return m;
      }
      case ')':
      case ']':
      case '}':
        throw this.error(`Unmatched delimiter ${c}`);
      case '"':
        return this.readString();
      case '\\':
        return this.readChar();
      case '#':
        return this.readDispatch(depth);
      case ':': {
        const tok = this.readToken();
        if (tok.length < 2 || tok === '::' || tok.endsWith('/')) {
          this.pos -= tok.length;
          throw this.error(`Invalid keyword ${tok}`);
        }
        return kw(tok.slice(1));
      }
      default:
        return this.readAtom();
    }
  }

  private readSeq(close: string, depth: number): EdnValue[] {
    const out: EdnValue[] = [];
    const start = this.pos;
    for (;;) {
      this.skipWs();
      if (this.pos >= this.s.length) {
        this.pos = start;
        throw this.error(`Unterminated collection: expected ${close}`, 'edn/eof');
      }
      if (this.s[this.pos] === close) {
        this.pos++;
        return out;
      }
      const v = this.readOne(depth + 1);
      if (v !== DISCARD) out.push(v as EdnValue);
    }
  }

  private readString(): string {
    const s = this.s;
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      if (this.pos >= s.length) {
        this.pos = start;
        throw this.error('Unterminated string', 'edn/eof');
      }
      const c = s[this.pos++];
      if (c === '"') return out;
      if (c === '\\') {
        const e = s[this.pos++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case 'u': {
            const hex = s.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw this.error(`Invalid unicode escape \\u${hex}`);
            out += String.fromCharCode(parseInt(hex, 16));
            this.pos += 4;
            break;
          }
          default:
            this.pos--;
            throw this.error(`Invalid string escape \\${e ?? ''}`);
        }
      } else out += c;
    }
  }

  private readChar(): string {
    this.pos++;
    const tok = this.readTokenRaw(true);
    const named: Record<string, string> = { newline: '\n', space: ' ', tab: '\t', return: '\r', backspace: '\b', formfeed: '\f' };
    if (tok.length === 1) return tok;
    if (named[tok] !== undefined) return named[tok];
    if (/^u[0-9a-fA-F]{4}$/.test(tok)) return String.fromCharCode(parseInt(tok.slice(1), 16));
    throw this.error(`Invalid character literal \\${tok}`);
  }

  private readDispatch(depth: number): EdnValue | typeof DISCARD {
    const s = this.s;
    const next = s[this.pos + 1];
    if (next === '{') {
      this.pos += 2;
      return new Set(this.readSeq('}', depth));
    }
    if (next === '_') {
      this.pos += 2;
      this.skipWs();
      this.read(depth + 1);
      return DISCARD;
    }
    if (next === '#') {
      this.pos += 2;
      const tok = this.readToken();
      if (tok === 'Inf') return Infinity;
      if (tok === '-Inf') return -Infinity;
      if (tok === 'NaN') return NaN;
      throw this.error(`Unknown symbolic value ##${tok}`);
    }
    this.pos++;
    const tag = this.readToken();
    if (!tag || !/^[a-zA-Z]/.test(tag)) throw this.error(`Invalid dispatch #${tag}`);
    this.skipWs();
    const tagPos = this.pos;
    const value = this.read(depth + 1);
    const handler = this.opts.tags?.[tag];
    if (handler) return handler(value);
    if (tag === 'inst') {
      if (typeof value !== 'string') throw this.error('#inst expects a string');
      const d = new Date(value);
      if (Number.isNaN(d.getTime())) {
        this.pos = tagPos;
        throw this.error(`Invalid #inst ${JSON.stringify(value)}`);
      }
      return d;
    }
    if (tag === 'uuid') {
      if (typeof value !== 'string' || !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value)) {
        this.pos = tagPos;
        throw this.error(`Invalid #uuid ${JSON.stringify(value)}`);
      }
      return new Uuid(value);
    }
    return new Tagged(tag, value);
  }

  private readTokenRaw(allowFirstDelim = false): string {
    const s = this.s;
    const start = this.pos;
    if (allowFirstDelim && this.pos < s.length) this.pos++;
    while (this.pos < s.length && !DELIMS.has(s[this.pos])) this.pos++;
    return s.slice(start, this.pos);
  }

  private readToken(): string {
    return this.readTokenRaw();
  }

  private readAtom(): EdnValue {
    const start = this.pos;
    const tok = this.readToken();
    if (tok === '') throw this.error(`Unexpected character ${JSON.stringify(this.s[this.pos])}`);
    if (tok === 'nil') return null;
    if (tok === 'true') return true;
    if (tok === 'false') return false;
    const c0 = tok[0];
    if ((c0 >= '0' && c0 <= '9') || ((c0 === '-' || c0 === '+') && tok.length > 1 && tok[1] >= '0' && tok[1] <= '9')) {
      const n = parseNumber(tok);
      if (n === undefined) {
        this.pos = start;
        throw this.error(`Invalid number ${tok}`);
      }
      return n;
    }
    if (/^[^0-9#:][^\s]*$/.test(tok) && !tok.startsWith('/') || tok === '/') return sym(tok);
    this.pos = start;
    throw this.error(`Invalid token ${tok}`);
  }
}

function parseNumber(tok: string): number | undefined {
  let t = tok;
  if (t.endsWith('N') || t.endsWith('M')) t = t.slice(0, -1);
  if (/^[+-]?\d+$/.test(t)) return Number(t);
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(t)) return t.startsWith('-') ? -Number(t.slice(1)) : Number(t.replace('+', ''));
  if (/^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$/.test(t)) return Number(t);
  const ratio = /^([+-]?\d+)\/(\d+)$/.exec(t);
  if (ratio) return Number(ratio[1]) / Number(ratio[2]);
  return undefined;
}
