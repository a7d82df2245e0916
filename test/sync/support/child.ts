import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * A TCP port on loopback for a server that is restarted on the same port, reserved for this
 * process until it exits. A port the kernel hands out for port 0 (`listen(0)`, as `freePort` once
 * did) is free again in a restart gap, and any other process binding port 0 then — a test server
 * of a concurrent `npm test`, another hunt's fleet — may be given it: the fleet's clients
 * reconnected to that foreign server, were told `reset` (another log) and merged its ops, a
 * divergence of the harness, not of sync (chaos hunt seed 108539: a replica held the schema
 * transaction of a vitest worker's server, `server_vm_3489_…`, that no process of the fleet made;
 * seed 100626: `listen EADDRINUSE` at an in-process restart). So the port comes from below the
 * kernel's ephemeral range, where port 0 never lands, and a lock file per port (`<tmpdir>/
 * dataloom-ports/<port>`, holding the pid) keeps cooperating processes from reserving the same one;
 * a lock whose process is gone is taken over. Held until {@link releasePort} or the process exits.
 */
export function freePort(opts: PortRange = defaultPortRange()): Promise<number> {
  return reservePort(opts);
}

export interface PortRange {
  /** Lowest and highest port to try (inclusive). */
  from: number;
  to: number;
  /** Directory of the lock files. */
  dir?: string;
}

/** Ports below the kernel's ephemeral range (`ip_local_port_range`), which port 0 never lands in. */
export function defaultPortRange(): PortRange {
  let low = 32768;
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: IANA's dynamic range starts at 49152, Linux's default at 32768; stay below both
  }
  const to = Math.min(low, 32768) - 1;
  return { from: Math.max(1024, to - 12_000), to };
}

/** Lock files of the ports this process holds, by port. */
const held = new Map<number, string>();
let reserved = 0;
process.once('exit', () => {
  for (const f of held.values()) rmSync(f, { force: true });
});

/** Gives a port of {@link freePort} back (a long hunt would run out of the range otherwise). */
export function releasePort(port: number): void {
  const lock = held.get(port);
  if (lock === undefined) return;
  held.delete(port);
  rmSync(lock, { force: true });
}

async function reservePort(r: PortRange): Promise<number> {
  const dir = r.dir ?? join(tmpdir(), 'dataloom-ports');
  mkdirSync(dir, { recursive: true });
  const size = r.to - r.from + 1;
  // spread processes over the range (no Math.random: the pid and a counter decide where to start)
  const start = (process.pid * 7919 + reserved++ * 104_729) % size;
  for (let i = 0; i < size; i++) {
    const port = r.from + ((start + i) % size);
    const lock = join(dir, String(port));
    if (!takeLock(lock)) continue;
    if (await bindable(port)) {
      held.set(port, lock);
      return port;
    }
    rmSync(lock, { force: true });
  }
  throw new Error(`no free port in ${r.from}..${r.to} (locks in ${dir})`);
}

/** Creates `lock` with this pid, or takes over one whose process is gone. */
function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number(readFileSync(lock, 'utf8'));
    if (pid > 0 && alive(pid)) return false;
    rmSync(lock, { force: true });
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = netServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

export interface ChildServer {
  url: string;
  proc: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Start `server-child.ts` with `cfg`; resolves when it is listening. */
export function startChild(cfg: Record<string, unknown>): Promise<ChildServer> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', `${here}server-child.ts`, JSON.stringify(cfg)], {
      env: { ...process.env, TSX_TSCONFIG_PATH: `${here}tsconfig.json` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    // generous: on a loaded machine tsx compiling the server can take tens of seconds (seen in the long chaos hunt)
    const timer = setTimeout(() => reject(new Error(`child server did not start within 60 s: ${err}`)), 60_000);
    proc.stderr!.on('data', (d) => {
      err += d;
      if (process.env.DEBUG_CHILD) process.stderr.write(d);
    });
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /READY (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          proc,
          kill: (signal = 'SIGKILL') =>
            new Promise<void>((r) => {
              if (proc.exitCode !== null || proc.signalCode !== null) return r();
              proc.once('exit', () => r());
              proc.kill(signal);
            }),
        });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child server exited (${code}) before ready: ${err}`));
    });
  });
}
