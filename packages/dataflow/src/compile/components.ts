/**
 * Components and stratification of a compiled program: its relations grouped into strongly
 * connected components, dependencies first; negation inside a component is rejected
 * (`dataflow/unstratifiable`).
 */
import { DataloomError } from '@dataloom/core';
import { stepSources } from '../ir/types.js';
import type { RuleIR } from '../ir/types.js';
import type { DerivedRel } from '../operators/derived.js';

/** A relation defined by the compiled program. */
export interface LocalRel {
  readonly rel: DerivedRel;
  readonly rules: RuleIR[];
}

function err(code: string, message: string, form: unknown, extra: Record<string, unknown> = {}): DataloomError {
  return new DataloomError(code, message, { form, ...extra });
}

export function components(ls: readonly LocalRel[]): { members: LocalRel[]; recursive: boolean }[] {
  const idx = new Map<DerivedRel, number>(ls.map((l, i) => [l.rel, i]));
  const edges: { to: number; neg: boolean }[][] = ls.map((l) => {
    const out: { to: number; neg: boolean }[] = [];
    for (const r of l.rules) {
      for (const s of r.body) {
        for (const src of stepSources(s)) {
          const j = idx.get(src as DerivedRel);
          if (j !== undefined) out.push({ to: j, neg: (s.kind === 'atom' && s.neg) || s.kind !== 'atom' });
        }
      }
    }
    return out;
  });
  // Tarjan: emits components dependencies-first.
  const index = new Array<number>(ls.length).fill(-1);
  const low = new Array<number>(ls.length).fill(0);
  const onStack = new Array<boolean>(ls.length).fill(false);
  const stack: number[] = [];
  const comps: number[][] = [];
  let counter = 0;
  const strong = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = true;
    for (const { to } of edges[v]!) {
      if (index[to] === -1) {
        strong(to);
        low[v] = Math.min(low[v]!, low[to]!);
      } else if (onStack[to]) low[v] = Math.min(low[v]!, index[to]!);
    }
    if (low[v] === index[v]) {
      const comp: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = false;
        comp.push(w);
      } while (w !== v);
      comps.push(comp);
    }
  };
  for (let i = 0; i < ls.length; i++) if (index[i] === -1) strong(i);
  return comps.map((comp) => {
    const set = new Set(comp);
    let recursive = comp.length > 1;
    for (const v of comp) {
      for (const e of edges[v]!) {
        if (!set.has(e.to)) continue;
        recursive = true;
        if (e.neg) {
          throw err(
            'dataflow/unstratifiable',
            `Unstratifiable program: ${ls[v]!.rel.label} depends negatively on ${ls[e.to]!.rel.label} through recursion`,
            ls[v]!.rel.label,
            { relations: comp.map((i) => ls[i]!.rel.label) },
          );
        }
      }
    }
    return { members: comp.map((i) => ls[i]!), recursive };
  });
}
