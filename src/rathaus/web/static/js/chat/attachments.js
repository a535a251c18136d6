// Attachments of the chat: each file encrypted in the browser with a key of its own, uploaded as
// an opaque blob (POST /api/chat/rooms/<room>/blobs), and named in an MLS-encrypted chat message
// `{t: 'file', body: <name>, file: FileInfo}` whose `file` carries the blob's id and the key: the
// server never sees the key, the name, the type or the plain bytes. No DOM (thumbnails:
// attachment-view.js). Docs: docs/protocol.md, "Chat", and docs/e2ee.md.
//
// The blob's format (version 1): the file is cut into chunks of CHUNK bytes (the last one shorter,
// possibly empty: an empty file is one empty chunk), and chunk i is encrypted with AES-256-GCM
// under the file's key:
//   iv_i        = the file's random 12-byte IV with its last 4 bytes XORed with i (big-endian)
//   additional  = one byte: 1 for the last chunk, 0 for every other
//   ciphertext  = AES-GCM(key, iv_i, chunk_i, additional): the chunk's length + 16 bytes (tag)
// The blob is the ciphertexts one after another: n + 16 * max(1, ceil(n / CHUNK)) bytes for a file
// of n. The index in the IV keeps chunks in their place, the last-chunk byte keeps a blob cut at
// a chunk boundary from passing as a shorter file, and the SHA-256 of the plain file (in the
// message) is checked after decryption as well. So memory stays bounded: one chunk at a time is
// read, hashed and encrypted (the ciphertext goes into the browser's blob storage), and a
// download is decrypted as it arrives.

import { b64urlDecode, b64urlEncode, randomBytes } from '../e2ee/encoding.js';

export const CHUNK = 1024 * 1024;
export const TAG = 16;
/** Pictures get a thumbnail (made in the browser) and open full size. */
export const PICTURE_TYPES = Object.freeze(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);
/** The longest thumbnail (a data: URL) a message carries: a message is at most 64 KiB. */
export const MAX_THUMBNAIL = 48 * 1024;
const MAX_NAME = 255;
const BLOB_ID = /^[A-Za-z0-9_-]{22}$/;
const THUMBNAIL = /^data:image\/jpeg;base64,[A-Za-z0-9+/]+=*$/;

/**
 * What a message says about its attachment (inside the encryption).
 * @typedef {{blob: string, key: string, iv: string, name: string, type: string, size: number,
 *   sha256: string, thumbnail?: string}} FileInfo
 */
/** @typedef {{update(data: Uint8Array): Hasher, digest(): Uint8Array}} Hasher */
/** @typedef {(done: number, total: number) => void} Progress */

/** Why an attachment could not be had: `altered` (it does not decrypt, or is not the file the
 * message names), `too_large`, `rate_limited`, `not_found`, … (the server's codes). */
export class AttachmentError extends Error {
  /** @param {string} code @param {string} [message] */
  constructor(code, message) {
    super(message ?? code);
    this.code = code;
  }
}

// @noble/hashes (vendored for ts-mls) hashes in steps, which WebCrypto's digest cannot. Imported
// by URL so that tsc reads its types from here, not its vendored JavaScript.
const SHA2 = new URL('../../vendor/@noble/hashes/sha2.js', import.meta.url).href;

/** @returns {Promise<Hasher>} */
async function sha256() {
  const module = await import(SHA2);
  return module.sha256.create();
}

/** The size of the blob of a file of `size` bytes. @param {number} size */
export function encryptedSize(size) {
  return size + TAG * Math.max(1, Math.ceil(size / CHUNK));
}

/** Whether the file is a picture that gets a thumbnail. @param {string} type */
export function isPicture(type) {
  return PICTURE_TYPES.includes(type);
}

/**
 * A message's `file`, checked (it comes from another member's device); null if it is not one.
 * @param {unknown} value
 * @returns {FileInfo | null}
 */
export function parseFile(value) {
  if (typeof value !== 'object' || value === null) return null;
  const v = /** @type {Record<string, unknown>} */ (value);
  const key = b64urlDecode(v.key);
  const iv = b64urlDecode(v.iv);
  const digest = b64urlDecode(v.sha256);
  if (typeof v.blob !== 'string' || !BLOB_ID.test(v.blob)) return null;
  if (key?.length !== 32 || iv?.length !== 12 || digest?.length !== 32) return null;
  if (typeof v.name !== 'string' || !v.name || v.name.length > MAX_NAME) return null;
  if (typeof v.type !== 'string' || v.type.length > MAX_NAME) return null;
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) return null;
  /** @type {FileInfo} */
  const info = {
    blob: v.blob, key: /** @type {string} */ (v.key), iv: /** @type {string} */ (v.iv), name: v.name,
    type: v.type, size: v.size, sha256: /** @type {string} */ (v.sha256),
  };
  // Only a JPEG data: URL of our own making is shown as a picture; anything else is dropped.
  if (typeof v.thumbnail === 'string' && v.thumbnail.length <= MAX_THUMBNAIL && THUMBNAIL.test(v.thumbnail)) {
    info.thumbnail = v.thumbnail;
  }
  return info;
}

/** A file's name as it may travel: no path, no control characters, at most MAX_NAME.
 * @param {string} name */
export function cleanName(name) {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return (clean || 'file').slice(0, MAX_NAME);
}

/** @param {Uint8Array} iv @param {number} index @returns {Uint8Array<ArrayBuffer>} */
function chunkIv(iv, index) {
  const out = new Uint8Array(iv);
  out[8] ^= (index >>> 24) & 0xff;
  out[9] ^= (index >>> 16) & 0xff;
  out[10] ^= (index >>> 8) & 0xff;
  out[11] ^= index & 0xff;
  return out;
}

/** @param {boolean} last */
function additional(last) {
  return new Uint8Array([last ? 1 : 0]);
}

/**
 * Encrypts a file as a blob (the format above): the blob, and what the message must carry.
 * @param {Blob} file
 * @param {Progress} [progress] bytes of the file read so far
 * @returns {Promise<{blob: Blob, key: string, iv: string, sha256: string}>}
 */
export async function encryptFile(file, progress) {
  const raw = randomBytes(32);
  const iv = randomBytes(12);
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt']);
  const hash = await sha256();
  /** @type {Blob[]} */
  const parts = [];
  const count = Math.max(1, Math.ceil(file.size / CHUNK));
  for (let i = 0; i < count; i++) {
    const plain = new Uint8Array(await file.slice(i * CHUNK, (i + 1) * CHUNK).arrayBuffer());
    hash.update(plain);
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: chunkIv(iv, i), additionalData: additional(i === count - 1) }, key, plain,
    );
    parts.push(new Blob([sealed]));
    progress?.(Math.min(file.size, (i + 1) * CHUNK), file.size);
  }
  return {
    blob: new Blob(parts, { type: 'application/octet-stream' }),
    key: b64urlEncode(raw), iv: b64urlEncode(iv), sha256: b64urlEncode(hash.digest()),
  };
}

/** Bytes as they arrive, taken off the front in pieces of any length. */
class ByteQueue {
  constructor() {
    /** @type {Uint8Array[]} */
    this.pieces = [];
    this.length = 0;
  }

  /** @param {Uint8Array} bytes */
  push(bytes) {
    if (bytes.length) this.pieces.push(bytes);
    this.length += bytes.length;
  }

  /** The first `n` bytes (n <= length). @param {number} n @returns {Uint8Array<ArrayBuffer>} */
  take(n) {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const piece = /** @type {Uint8Array} */ (this.pieces[0]);
      const part = piece.subarray(0, n - filled);
      out.set(part, filled);
      filled += part.length;
      if (part.length === piece.length) this.pieces.shift();
      else this.pieces[0] = piece.subarray(part.length);
    }
    this.length -= n;
    return out;
  }
}

/**
 * Decrypts a blob as it arrives and checks it is the file the message names (size, SHA-256):
 * the plain file, or AttachmentError `altered`.
 * @param {AsyncIterable<Uint8Array>} chunks the blob's bytes
 * @param {FileInfo} info
 * @param {Progress} [progress] bytes of the file decrypted so far
 * @returns {Promise<Blob>}
 */
export async function decryptBlob(chunks, info, progress) {
  const raw = b64urlDecode(info.key);
  const iv = b64urlDecode(info.iv);
  if (!raw || !iv) throw new AttachmentError('altered');
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['decrypt']);
  const hash = await sha256();
  const queue = new ByteQueue();
  /** @type {Blob[]} */
  const parts = [];
  let index = 0;
  let size = 0;
  /** @param {Uint8Array<ArrayBuffer>} sealed @param {boolean} last */
  const open = async (sealed, last) => {
    let plain;
    try {
      plain = new Uint8Array(await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: chunkIv(iv, index), additionalData: additional(last) }, key, sealed,
      ));
    } catch {
      throw new AttachmentError('altered', 'a part of the file does not decrypt');
    }
    index += 1;
    size += plain.length;
    if (size > info.size) throw new AttachmentError('altered', 'the file is longer than it should be');
    hash.update(plain);
    parts.push(new Blob([plain]));
    progress?.(size, info.size);
  };
  for await (const bytes of chunks) {
    queue.push(bytes);
    // More than one chunk waits: the first of them is not the last.
    while (queue.length > CHUNK + TAG) await open(queue.take(CHUNK + TAG), false);
  }
  if (queue.length < TAG) throw new AttachmentError('altered', 'the file is cut short');
  await open(queue.take(queue.length), true);
  if (size !== info.size || b64urlEncode(hash.digest()) !== info.sha256) {
    throw new AttachmentError('altered', 'the file is not the one the message names');
  }
  return new Blob(parts, { type: info.type || 'application/octet-stream' });
}

/** @param {string} slug */
function blobsPath(slug) {
  return `/api/chat/rooms/${encodeURIComponent(slug)}/blobs`;
}

/** @param {string} text @returns {string} the error code of an error answer */
function codeOf(text) {
  try {
    const body = JSON.parse(text);
    if (typeof body?.code === 'string') return body.code;
  } catch {
    // not JSON
  }
  return 'unknown';
}

/**
 * Uploads a blob (with the session's CSRF token); its id.
 * @param {{csrf_token: string}} session @param {string} slug @param {Blob} blob
 * @param {Progress} [progress] bytes sent so far
 * @returns {Promise<string>}
 */
export function uploadBlob(session, slug, blob, progress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest(); // fetch tells nothing of an upload's progress
    request.open('POST', blobsPath(slug));
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    request.setRequestHeader('X-CSRF-Token', session.csrf_token);
    request.upload.addEventListener('progress', (e) => progress?.(e.loaded, e.total || blob.size));
    request.addEventListener('load', () => {
      if (request.status === 201) {
        let id = null;
        try {
          id = JSON.parse(request.responseText).blob;
        } catch {
          // not JSON: below
        }
        if (typeof id === 'string' && BLOB_ID.test(id)) resolve(id);
        else reject(new AttachmentError('unknown'));
      } else {
        reject(new AttachmentError(request.status === 413 ? 'too_large' : codeOf(request.responseText)));
      }
    });
    request.addEventListener('error', () => reject(new AttachmentError('connection')));
    request.send(blob);
  });
}

/**
 * Encrypts and uploads a file: the content of the message that names it.
 * @param {{csrf_token: string}} session @param {string} slug @param {File} file
 * @param {{maxBytes?: number, thumbnail?: string | null, progress?: (phase: 'encrypting' | 'uploading', done: number, total: number) => void}} [options]
 * @returns {Promise<{t: 'file', body: string, file: FileInfo}>}
 */
export async function sendFile(session, slug, file, options = {}) {
  if (options.maxBytes !== undefined && encryptedSize(file.size) > options.maxBytes) {
    throw new AttachmentError('too_large');
  }
  const sealed = await encryptFile(file, (done, total) => options.progress?.('encrypting', done, total));
  const blob = await uploadBlob(session, slug, sealed.blob, (done, total) => options.progress?.('uploading', done, total));
  const name = cleanName(file.name);
  /** @type {FileInfo} */
  const info = {
    blob, key: sealed.key, iv: sealed.iv, name, type: file.type.slice(0, MAX_NAME), size: file.size,
    sha256: sealed.sha256,
  };
  if (options.thumbnail) info.thumbnail = options.thumbnail;
  return { t: 'file', body: name, file: info };
}

/**
 * Downloads and decrypts a message's attachment: the plain file (checked).
 * @param {string} slug @param {FileInfo} info @param {Progress} [progress]
 * @returns {Promise<Blob>}
 */
export async function fetchFile(slug, info, progress) {
  let response;
  try {
    response = await fetch(`${blobsPath(slug)}/${info.blob}`, { credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new AttachmentError('connection');
  }
  if (!response.ok || !response.body) throw new AttachmentError(codeOf(await response.text()));
  return decryptBlob(chunksOf(response.body), info, progress);
}

/** @param {ReadableStream<Uint8Array>} stream @returns {AsyncIterable<Uint8Array>} */
async function* chunksOf(stream) {
  const reader = stream.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * Deletes a blob (its uploader's, or as a moderator); one that is gone already is no error.
 * @param {{csrf_token: string}} session @param {string} slug @param {string} blob
 */
export async function deleteBlob(session, slug, blob) {
  const response = await fetch(`${blobsPath(slug)}/${blob}`, {
    method: 'DELETE', credentials: 'same-origin', headers: { 'X-CSRF-Token': session.csrf_token },
  });
  if (!response.ok && response.status !== 404) throw new AttachmentError(codeOf(await response.text()));
}

/**
 * A size for people: "512 B", "1.4 MB" (decimal units, as file managers show them).
 * @param {number} bytes @param {string} language
 */
export function formatSize(bytes, language) {
  const units = ['B', 'kB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(language, { maximumFractionDigits: digits })} ${units[unit]}`;
}
