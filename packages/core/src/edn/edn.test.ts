import { describe, expect, it } from 'vitest';
import { canonical, prStr, toCljs } from '@dataloom/test/oracle/datascript.js';
import { DataloomError } from '../errors.js';
import { parseEdn, parseEdnAll, printEdn } from './index.js';
import { kw, List, Sym, sym, Uuid } from './types.js';

const SAMPLES = [
  'nil', 'true', 'false', '42', '-7', '1.5', '"a \\"quoted\\" \\\\ string\\n"', ':kw', ':ns/kw', 'sym', 'ns/sym', '?x',
  '[1 2 [3]]', '(1 2)', '{:a 1}', '#{1}', '#inst "2020-01-02T03:04:05.006-00:00"',
  '#uuid "6b022a2b-bb9f-4c69-9b6b-e12c9c3a1882"', '[:find ?e . :where [?e :name "Ivan"]]', '{:a [1 #{:x}] :b (nil)}', '[]', '{}', '#{}', '()',
];

describe('EDN vs ClojureScript (DataScript) printing', () => {
  for (const text of SAMPLES) {
    it(text, () => {
      const v = parseEdn(text);
      const ours = printEdn(v);
      const theirs = prStr(toCljs(v));
      expect(canonical(parseEdn(ours))).toBe(canonical(parseEdn(theirs)));
      if (!/[#{]/.test(text) || text.startsWith('#inst') || text.startsWith('#uuid')) expect(ours).toBe(theirs);
    });
  }
});

describe('EDN reader', () => {
  it('reads the JS representation of docs/CONTRACTS.md', () => {
    expect(parseEdn(':a/b')).toBe(kw('a/b'));
    expect(parseEdn('?x')).toBe(sym('?x'));
    expect(parseEdn('(1 2)')).toBeInstanceOf(List);
    expect(parseEdn('{:a 1}')).toEqual(new Map([[kw('a'), 1]]));
    expect(parseEdn('#{1 2}')).toEqual(new Set([1, 2]));
    expect(parseEdn('#inst "1970-01-01T00:00:00.001Z"')).toEqual(new Date(1));
    expect(parseEdn('#uuid "6B022A2B-BB9F-4C69-9B6B-E12C9C3A1882"')).toEqual(new Uuid('6b022a2b-bb9f-4c69-9b6b-e12c9c3a1882'));
    expect(parseEdn('nil')).toBeNull();
    expect(parseEdn('[1 #_ 2 3] ; comment')).toEqual([1, 3]);
    expect(parseEdnAll('1 :a "s"')).toEqual([1, kw('a'), 's']);
    expect(parseEdn('ns/sym')).toBeInstanceOf(Sym);
  });

  it('malformed input throws typed errors with a position', () => {
    for (const [text, code] of [
      ['[1 2', 'edn/eof'],
      ['{:a}', 'edn/syntax'],
      ['', 'edn/eof'],
      ['1 2', 'edn/syntax'],
      [']', 'edn/syntax'],
    ] as const) {
      try {
        parseEdn(text);
        expect.unreachable(text);
      } catch (e) {
        expect(e, text).toBeInstanceOf(DataloomError);
        expect((e as DataloomError).code, text).toBe(code);
      }
    }
    expect(() => parseEdn('['.repeat(2000))).toThrowError(expect.objectContaining({ code: 'edn/too-deep' }));
  });

  it('prints values with a toEdn() method, whether it returns a string or a value', () => {
    expect(printEdn([{ toEdn: () => '#x 1' }])).toBe('[#x 1]');
    expect(printEdn({ toEdn: () => new Map([[kw('db/id'), 1]]) })).toBe('{:db/id 1}');
  });
});
