/**
 * Reading a schema file for `dataloom serve --schema <file>` (and scripts that start a server
 * from a file): EDN, or JSON when the name ends in `.json`. Every failure names the file — a
 * missing file, a syntax error (with line and column), or a schema the server refuses.
 */
import { DataloomError } from '@dataloom/core';
import { schemaAsData } from '@dataloom/core/internals';
import { readFileSync } from 'node:fs';

/**
 * The schema in `file`, checked by the server's rules, as the text/data `createServer({ schema })`
 * takes. @throws DataloomError `server/schema-file` with `data.file` (and `line`/`column` for a
 * syntax error, `cause` the original code).
 */
export function readSchemaFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new DataloomError('server/schema-file', `schema file ${file}: ${why}`, { file });
  }
  try {
    const schema: unknown = file.endsWith('.json') ? JSON.parse(text) : text;
    schemaAsData(schema); // the reader createServer uses: refuse a bad schema here, with the file's name
    return schema;
  } catch (e) {
    const data = e instanceof DataloomError ? (e.data as Record<string, unknown>) : {};
    const at = typeof data.line === 'number' ? `:${data.line}:${data.column}` : '';
    const message = (e as Error).message.replace(/ \(EDN line \d+, column \d+\)$/, '');
    throw new DataloomError('server/schema-file', `schema file ${file}${at}: ${message}`, {
      file,
      ...(typeof data.line === 'number' ? { line: data.line, column: data.column } : {}),
      cause: e instanceof DataloomError ? e.code : 'json/syntax',
    });
  }
}
