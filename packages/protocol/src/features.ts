/**
 * Connection set-up shared by client and server: the WebSocket subprotocol, the token entry, and
 * optional features. Browsers cannot set headers on a WebSocket, so everything travels as
 * entries of `Sec-WebSocket-Protocol`: the server selects {@link SUBPROTOCOL}; the token and the
 * feature entries are never selected or echoed. A server that does not know a feature ignores its
 * entry; a client that does not offer it gets plain version 1 — so old and new ends interoperate.
 */

/** WebSocket subprotocol the server selects; the client offers it. */
export const SUBPROTOCOL = 'dataloom.v1';

/** Prefix of the subprotocol entry that carries the auth token: `dataloom.token.<base64url>`. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'dataloom.token.';

/** Prefix of feature entries: `dataloom.feature.<name>`. */
export const FEATURE_PREFIX = 'dataloom.feature.';

/**
 * The client understands the batched `acks` message. Without it the server answers every
 * transaction with its own `ack`, so version-1 clients that predate it keep working.
 */
export const ACKS_FEATURE = 'dataloom.feature.acks';

/** Every feature this build understands (what a client offers). */
export const FEATURES: readonly string[] = [ACKS_FEATURE];

/** The subprotocol list a client offers: the version, its features, and the token entry if any. */
export function clientProtocols(token: string | null | undefined, features: readonly string[] = FEATURES): string[] {
  const out = [SUBPROTOCOL, ...features];
  if (token) out.push(TOKEN_SUBPROTOCOL_PREFIX + base64url(token));
  return out;
}

/** Entries of a `Sec-WebSocket-Protocol` header value (comma-separated), trimmed. */
export function protocolEntries(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (Array.isArray(header) ? header.join(',') : header).split(',').map((p) => p.trim()).filter((p) => p.length > 0);
}

/** Whether a client offered `feature` among its subprotocol entries. */
export function offersFeature(header: string | string[] | undefined, feature: string): boolean {
  return protocolEntries(header).includes(feature);
}

/** The token from the `dataloom.token.<base64url>` entry, or null. */
export function tokenFromProtocols(header: string | string[] | undefined): string | null {
  for (const p of protocolEntries(header)) {
    if (p.startsWith(TOKEN_SUBPROTOCOL_PREFIX)) return fromBase64url(p.slice(TOKEN_SUBPROTOCOL_PREFIX.length));
  }
  return null;
}

/** base64url of UTF-8 text (no padding): a token as a subprotocol entry. */
export function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Inverse of {@link base64url} (lenient like Node's `base64url` decoding: stray characters are ignored). */
export function fromBase64url(s: string): string {
  let b64 = s.replace(/-/g, '+').replace(/_/g, '/').replace(/[^A-Za-z0-9+/]/g, '');
  if (b64.length % 4 === 1) b64 = b64.slice(0, -1);
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}
