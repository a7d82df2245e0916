/**
 * Draft ids. A draft is named by a global entity id: the id of its *draft entity*, which holds the
 * draft's committed bookkeeping (`:draft/author`, `:draft/collaborators`, `:draft/closed`,
 * `:draft/status`; see `DESIGN.md`). `createDraft()` allocates a fresh one; any other name (say
 * `"order-42/edit"`, so everyone opening that form joins one draft) maps to a fixed id derived
 * from it, the same on every replica.
 */
import { DataloomError, isGlobalId, type GlobalId } from '@dataloom/core';

/** The replica part of global ids derived from draft names. */
export const NAMED_DRAFT_REPLICA = 'draft';

/**
 * The draft id for `name`: `name` itself when it is a global id, else `draft.<hash>` where the
 * hash is 128 bits of `name` in base 36 (the same on every replica and in every runtime).
 */
export function draftId(name: string): GlobalId {
  if (typeof name !== 'string' || name.length === 0) {
    throw new DataloomError('draft/id', `a draft id is a non-empty string, got ${JSON.stringify(name)}`, { id: String(name) });
  }
  if (isGlobalId(name)) return name;
  return `${NAMED_DRAFT_REPLICA}.${hash128(name)}`;
}

/**
 * 128-bit string hash (four 32-bit lanes of multiply-xorshift mixing over UTF-16 code units,
 * then a final avalanche), printed as 25 base-36 digits. Not cryptographic: names are not
 * secrets and visibility never depends on an id being unguessable.
 */
function hash128(s: string): string {
  let h1 = 0x9e3779b1 ^ s.length,
    h2 = 0x85ebca6b,
    h3 = 0xc2b2ae35,
    h4 = 0x27d4eb2f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x85ebca77);
    h2 = Math.imul(h2 ^ c, 0xc2b2ae3d);
    h3 = Math.imul(h3 ^ c, 0x27d4eb2f);
    h4 = Math.imul(h4 ^ c, 0x165667b1);
    h1 = (h1 << 13) | (h1 >>> 19);
    h2 = (h2 << 17) | (h2 >>> 15);
    h3 = (h3 << 11) | (h3 >>> 21);
    h4 = (h4 << 19) | (h4 >>> 13);
    h1 = (h1 + h2) | 0;
    h2 = (h2 + h3) | 0;
    h3 = (h3 + h4) | 0;
    h4 = (h4 + h1) | 0;
  }
  const fin = (h: number, k: number) => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b ^ k);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  const lanes = [fin(h1, h4), fin(h2, h1), fin(h3, h2), fin(h4, h3)];
  let big = 0n;
  for (const l of lanes) big = (big << 32n) | BigInt(l);
  return big.toString(36).padStart(25, '0');
}
