import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as netServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = netServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
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
