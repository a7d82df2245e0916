/** Column values (as `to_jsonb` gives them) → wire values of the mapped type. */
import { describe, expect, it } from 'vitest';
import { rowEntity, toWire, type MappedColumn } from './mapping.js';

const col = (valueType: MappedColumn['valueType'], target?: string): MappedColumn => ({ column: 'c', attr: 't/c', valueType, ...(target ? { target } : {}) });

describe('toWire', () => {
  it('converts each PostgreSQL type the way the mapping says', () => {
    expect(toWire(col('long'), 42, 'src_x', 'here')).toBe(42);
    expect(toWire(col('double'), '12.50', 'src_x', 'here')).toBe(12.5); // numeric may arrive as text
    expect(toWire(col('boolean'), false, 'src_x', 'here')).toBe(false);
    expect(toWire(col('instant'), '2024-01-02T03:04:05', 'src_x', 'here')).toEqual({ inst: Date.UTC(2024, 0, 2, 3, 4, 5) }); // timestamp: UTC
    expect(toWire(col('instant'), '2024-01-02T03:04:05+02:00', 'src_x', 'here')).toEqual({ inst: Date.UTC(2024, 0, 2, 1, 4, 5) });
    expect(toWire(col('instant'), '2024-01-02', 'src_x', 'here')).toEqual({ inst: Date.UTC(2024, 0, 2) });
    expect(toWire(col('uuid'), 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'src_x', 'here')).toEqual({ uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
    expect(toWire(col('string'), { a: [1] }, 'src_x', 'here')).toBe('{"a":[1]}');
    expect(toWire(col('ref', 'people'), 7, 'src_x', 'here')).toEqual({ ref: rowEntity('src_x', 'people', 7) });
  });

  it('refuses what would be written wrong, saying where', () => {
    expect(() => toWire(col('long'), 2 ** 60, 'src_x', 'table t row 1')).toThrow(/table t row 1: column c value .* is not a valid long/);
    expect(() => toWire(col('boolean'), 'yes', 'src_x', 'here')).toThrow(/not a valid boolean/);
    expect(() => toWire(col('instant'), 'soon', 'src_x', 'here')).toThrow(/not a valid instant/);
  });

  it('names one entity per table and key, the same every time', () => {
    expect(rowEntity('src_x', 'people', 7)).toBe(rowEntity('src_x', 'people', 7));
    expect(rowEntity('src_x', 'people', 7)).not.toBe(rowEntity('src_x', 'orders', 7));
    expect(rowEntity('src_x', 'people', 7)).not.toBe(rowEntity('src_x', 'people', '7'));
    expect(rowEntity('src_x', 'people', 7)).toMatch(/^src_x\.[0-9a-z]+$/);
  });
});
