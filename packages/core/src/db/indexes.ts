/**
 * Index orders over datoms. Keys compare on (e, a, v) components only: a database holds at most one
 * datom per (e, a, v), so `tx` is payload, not key. VAET holds ref datoms only.
 */
import type { Keyword } from '../edn/types.js';
import { compareKeywords, compareValues } from './compare.js';
import type { Datom } from './types.js';
import type { Probe } from './btree.js';

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function cmpEAVT(x: Datom, y: Datom): number {
  if (x.e !== y.e) return x.e < y.e ? -1 : 1;
  if (x.a !== y.a) return compareKeywords(x.a, y.a);
  return compareValues(x.v, y.v);
}

export function cmpAEVT(x: Datom, y: Datom): number {
  if (x.a !== y.a) return compareKeywords(x.a, y.a);
  if (x.e !== y.e) return x.e < y.e ? -1 : 1;
  return compareValues(x.v, y.v);
}

export function cmpAVET(x: Datom, y: Datom): number {
  if (x.a !== y.a) return compareKeywords(x.a, y.a);
  const c = compareValues(x.v, y.v);
  if (c !== 0) return c;
  return cmpNum(x.e, y.e);
}

export function cmpVAET(x: Datom, y: Datom): number {
  if (x.v !== y.v) return (x.v as number) < (y.v as number) ? -1 : 1;
  if (x.a !== y.a) return compareKeywords(x.a, y.a);
  return cmpNum(x.e, y.e);
}

// ---- probes: compare a stored datom with a prefix of components -------------------------------

export function probeE(e: number): Probe<Datom> {
  return (d) => cmpNum(d.e, e);
}
export function probeEA(e: number, a: Keyword): Probe<Datom> {
  return (d) => (d.e !== e ? (d.e < e ? -1 : 1) : d.a === a ? 0 : compareKeywords(d.a, a));
}
export function probeEAV(e: number, a: Keyword, v: unknown): Probe<Datom> {
  return (d) => (d.e !== e ? (d.e < e ? -1 : 1) : d.a !== a ? compareKeywords(d.a, a) : compareValues(d.v, v));
}
export function probeA(a: Keyword): Probe<Datom> {
  return (d) => (d.a === a ? 0 : compareKeywords(d.a, a));
}
export function probeAE(a: Keyword, e: number): Probe<Datom> {
  return (d) => (d.a !== a ? compareKeywords(d.a, a) : cmpNum(d.e, e));
}
export function probeAEV(a: Keyword, e: number, v: unknown): Probe<Datom> {
  return (d) => (d.a !== a ? compareKeywords(d.a, a) : d.e !== e ? (d.e < e ? -1 : 1) : compareValues(d.v, v));
}
export function probeAV(a: Keyword, v: unknown): Probe<Datom> {
  return (d) => (d.a !== a ? compareKeywords(d.a, a) : compareValues(d.v, v));
}
export function probeAVE(a: Keyword, v: unknown, e: number): Probe<Datom> {
  return (d) => {
    if (d.a !== a) return compareKeywords(d.a, a);
    const c = compareValues(d.v, v);
    return c !== 0 ? c : cmpNum(d.e, e);
  };
}
export function probeV(v: number): Probe<Datom> {
  return (d) => cmpNum(d.v as number, v);
}
export function probeVA(v: number, a: Keyword): Probe<Datom> {
  return (d) => (d.v !== v ? cmpNum(d.v as number, v) : d.a === a ? 0 : compareKeywords(d.a, a));
}
export function probeVAE(v: number, a: Keyword, e: number): Probe<Datom> {
  return (d) => (d.v !== v ? cmpNum(d.v as number, v) : d.a !== a ? compareKeywords(d.a, a) : cmpNum(d.e, e));
}
/** Matches everything. */
export const probeAll: Probe<Datom> = () => 0;
