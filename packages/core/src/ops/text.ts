/** Yjs update helpers for `:db.type/text` ops (base64 on the wire and on disk). */
import * as Y from 'yjs';

/** The bytes of a base64 Yjs update if it decodes as one, else null. */
export function decodableUpdate(b64: string): Uint8Array | null {
  try {
    const bytes = base64ToBytes(b64);
    Y.decodeUpdate(bytes);
    return bytes;
  } catch {
    return null;
  }
}

/** Base64 → bytes (no Buffer dependency: works in browsers and workers). */
export function base64ToBytes(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Bytes → base64. */
export function bytesToBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s);
}
