/**
 * Who may talk to the server at all, before any token is looked at: the `Origin` allow-list for
 * browsers, and the `Host` check that defeats DNS rebinding on a loopback server.
 *
 * DNS rebinding: a web page at `evil.example` makes its own name resolve to 127.0.0.1 and then
 * talks to a local development server "same-origin" — the browser sends `Origin:
 * http://evil.example:8787` and `Host: evil.example:8787`, both chosen by the attacker. So a
 * server bound to a loopback interface answers only requests whose `Host` names a loopback
 * address, and by default accepts only loopback Origins.
 */
import type { IncomingMessage } from 'node:http';

/** Whether `host` (a hostname or IP literal, with or without brackets) is a loopback name or address. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** The hostname of a `Host` header value (`name:port`, `[v6]:port`), or null when malformed. */
function hostnameOf(hostHeader: string | undefined): string | null {
  if (!hostHeader) return null;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return null;
  }
}

/** A server bound to loopback answers only requests whose `Host` is a loopback name (DNS rebinding). */
export function hostAllowed(req: IncomingMessage, boundLoopback: boolean): boolean {
  if (!boundLoopback) return true;
  const h = hostnameOf(req.headers.host);
  return h !== null && isLoopback(h);
}

/**
 * Whether a browser's `Origin` may connect. No `Origin` (non-browser clients): yes. `origins`
 * `'*'`: any; a list: exactly those. Default: for a loopback-bound server only loopback origins
 * (any port), otherwise only same-origin requests (`Origin` host equal to `Host`).
 */
export function originAllowed(req: IncomingMessage, origins: readonly string[] | '*' | undefined, boundLoopback: boolean): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origins === '*') return true;
  if (origins) return origins.includes(origin);
  try {
    const u = new URL(origin);
    return boundLoopback ? isLoopback(u.hostname) : u.host === req.headers.host;
  } catch {
    return false;
  }
}
