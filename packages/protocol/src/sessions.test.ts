import { describe, expect, it } from 'vitest';
import { checkReplicaId } from '@dataloom/core/internals';
import { replicaFamily, sessionReplicaId } from './sessions.js';

describe('session replica ids', () => {
  it('a session id is a valid replica id of its stored replica’s family', () => {
    for (const stored of ['abc', 'a_b', 'x'.repeat(64)]) {
      const s = sessionReplicaId(stored);
      expect(checkReplicaId(s)).toBe(s);
      expect(replicaFamily(s)).toBe(stored.slice(0, 40));
      expect(replicaFamily(sessionReplicaId(stored))).toBe(replicaFamily(s));
    }
  });

  it('an id without a session part is its own family', () => {
    expect(replicaFamily('abc')).toBe('abc');
    expect(replicaFamily('_abc')).toBe('_abc');
  });
});
