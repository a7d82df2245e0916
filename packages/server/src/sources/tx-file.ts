/**
 * Reading a file of transactions for `dataloom import`: EDN (`.edn`: a sequence of top-level
 * forms, each a transaction vector or a single entity map) or JSON lines (`.jsonl`/`.ndjson`: one
 * transaction a line, an array of forms or one entity map; attribute keys with or without the
 * leading colon). Failures name the file and where: `import/file`, `import/syntax`.
 */
import { DataloomError, Keyword, parseEdnAll } from '@dataloom/core';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** One transaction of the file. */
export interface FileTx {
  /** 0-based index of the transaction in the file. */
  index: number;
  /** 1-based line (JSON lines), or null (EDN: the index says where). */
  line: number | null;
  data: unknown[];
}

export interface TxFile {
  file: string;
  /** SHA-256 of the file's bytes (hex): the import ledger's key. */
  hash: string;
  txs: FileTx[];
}

function isEntityMap(x: unknown): boolean {
  return x instanceof Map || (x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Keyword));
}

export function readTxFile(file: string): TxFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new DataloomError('import/file', `${file}: ${why}`, { file });
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  const text = bytes.toString('utf8');
  const txs: FileTx[] = [];
  if (/\.(jsonl|ndjson)$/i.test(file)) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const src = lines[i]!.trim();
      if (src === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(src);
      } catch (e) {
        throw new DataloomError('import/syntax', `${file}:${i + 1}: ${(e as Error).message}`, { file, line: i + 1 });
      }
      if (!Array.isArray(v) && !isEntityMap(v)) throw new DataloomError('import/syntax', `${file}:${i + 1}: expected an array of forms or an entity map`, { file, line: i + 1 });
      txs.push({ index: txs.length, line: i + 1, data: Array.isArray(v) ? v : [v] });
    }
  } else if (/\.edn$/i.test(file)) {
    let forms: unknown[];
    try {
      forms = parseEdnAll(text);
    } catch (e) {
      const err = e as DataloomError;
      throw new DataloomError('import/syntax', `${file}: ${err.message}`, { file, cause: err.code, ...(err.data ?? {}) });
    }
    for (const f of forms) {
      if (!Array.isArray(f) && !isEntityMap(f)) throw new DataloomError('import/syntax', `${file}: transaction #${txs.length + 1} is not a vector of forms or an entity map`, { file, index: txs.length });
      txs.push({ index: txs.length, line: null, data: Array.isArray(f) ? f : [f] });
    }
  } else {
    throw new DataloomError('import/file', `${file}: unknown format (use .edn or .jsonl)`, { file });
  }
  return { file, hash, txs };
}
