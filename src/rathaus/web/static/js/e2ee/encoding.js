// Byte helpers of Rathaus's end-to-end encryption: strict base64url, big-endian integers,
// concatenation. No DOM and no I/O (atob/btoa exist in pages, workers and Node alike).

const B64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Unpadded base64url (RFC 4648 §5), as the wire uses for public keys and envelopes.
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function b64urlEncode(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Decodes unpadded, canonical base64url; anything else (padding, `+`/`/`, white space, a length
 * that cannot be, stray bits in the last character) returns null, so there is exactly one text per
 * byte string — the same rule as the server's.
 * @param {unknown} text
 * @returns {Uint8Array<ArrayBuffer> | null}
 */
export function b64urlDecode(text) {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) return null;
  let binary;
  try {
    binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    return null;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return b64urlEncode(bytes) === text ? bytes : null;
}

/**
 * @param {...Uint8Array} parts
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function concat(...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * `value` as `length` bytes, big-endian (value must fit).
 * @param {number | bigint} value
 * @param {number} length
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function uintBE(value, length) {
  let v = BigInt(value);
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/**
 * Reads a big-endian unsigned integer.
 * @param {Uint8Array} bytes
 * @param {number} offset
 * @param {number} length
 * @returns {bigint}
 */
export function readUintBE(bytes, offset, length) {
  let v = 0n;
  for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(bytes[offset + i]);
  return v;
}

/**
 * A UTF-8 string with a 2-byte big-endian length prefix (an unambiguous field of a transcript).
 * @param {string} text
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function lengthPrefixed(text) {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 0xffff) throw new RangeError('string too long for a length prefix');
  return concat(uintBE(bytes.length, 2), bytes);
}

/**
 * Byte-wise comparison, for canonical sorting: negative, zero or positive.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Equality in time independent of where the first difference is (for tags and hints).
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * `n` random bytes from the platform's CSPRNG.
 * @param {number} n
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}
