/**
 * The harness' restart ports (support/child.ts `freePort`): a fleet restarts its servers on the
 * port it was given, so in a restart gap nothing listens there. A port from the kernel's ephemeral
 * range could then be handed to another process' server on port 0 (a concurrent test run), and the
 * fleet's clients synced with that foreign log — chaos hunt seed 108539 ("ops not in the log" of a
 * `server_vm_3489_…` no process of the fleet was) and seed 100626 (`listen EADDRINUSE`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../../packages/server/src/index.js';
import { defaultPortRange, freePort, releasePort } from './support/child.js';
import { TEST_SCHEMA } from './support/harness.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function lockDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dataloom-ports-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Two neighbouring ports of the default range that nothing listens on now. */
async function twoPorts(): Promise<number> {
  const { from, to } = defaultPortRange();
  for (let p = from + 4000; p < to; p += 2) {
    const dir = lockDir();
    const got = [await freePort({ from: p, to: p + 1, dir }), await freePort({ from: p, to: p + 1, dir })];
    releasePort(got[0]!);
    releasePort(got[1]!);
    if (got.sort().join() === `${p},${p + 1}`) return p;
  }
  throw new Error('no two free neighbouring ports');
}

describe('restart ports of the simulation fleets', () => {
  it('lie below the ephemeral range, so a server on port 0 is never given a fleet port in its restart gap', async () => {
    const { to } = defaultPortRange();
    if (existsSync('/proc/sys/net/ipv4/ip_local_port_range')) {
      const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
      expect(to).toBeLessThan(low);
    }
    const port = await freePort();
    cleanups.push(() => releasePort(port));
    expect(port).toBeLessThanOrEqual(to);
    // the gap: nothing listens on the fleet's port; another process' test server asks for any port
    const foreign = await createServer({ store: `sqlite:${join(lockDir(), 'foreign.sqlite')}`, port: 0, schema: TEST_SCHEMA, onError: () => {} });
    cleanups.push(() => foreign.close());
    expect(foreign.port).toBeGreaterThan(to);
    expect(foreign.port).not.toBe(port);
  });

  it('are not reserved twice: a port locked by a live process is skipped, a dead process’ lock is taken over, a port in use is skipped', async () => {
    const p = await twoPorts();
    const dir = lockDir();
    // locked by a live process (this test's parent)
    writeFileSync(join(dir, String(p)), String(process.ppid));
    const a = await freePort({ from: p, to: p + 1, dir });
    expect(a).toBe(p + 1);
    expect(readFileSync(join(dir, String(a)), 'utf8')).toBe(String(process.pid));
    await expect(freePort({ from: p, to: p + 1, dir })).rejects.toThrow(`no free port in ${p}..${p + 1}`);
    releasePort(a);
    expect(existsSync(join(dir, String(a)))).toBe(false);

    // locked by a process that has exited
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(join(dir, String(p)), String(dead));
    writeFileSync(join(dir, String(p + 1)), String(process.ppid));
    const b = await freePort({ from: p, to: p + 1, dir });
    expect(b).toBe(p);
    releasePort(b);

    // bound by someone that took no lock
    rmSync(join(dir, String(p + 1)));
    const squatter: Server = netServer();
    await new Promise<void>((r) => squatter.listen(p, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise((r) => squatter.close(r)));
    const c = await freePort({ from: p, to: p + 1, dir });
    expect(c).toBe(p + 1);
    expect(existsSync(join(dir, String(p)))).toBe(false);
    releasePort(c);
  });
});
