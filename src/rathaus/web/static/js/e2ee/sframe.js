// SFrame (RFC 9605): the media frame cipher of Rathaus's end-to-end encryption.
// No DOM and no I/O: WebCrypto (globalThis.crypto.subtle) only, so it runs in a page, in the worker
// of an RTCRtpScriptTransform and under Node's test runner alike.
//
// Cipher suites: AES_128_GCM_SHA256_128 (0x0004) and AES_256_GCM_SHA512_128 (0x0005).
// KID and CTR are unsigned 64-bit integers; they are bigint inside, and the public functions accept a
// number (a safe integer) or a bigint.

import {concat} from './encoding.js';

/** @typedef {0x0004 | 0x0005} CipherSuite */

/** AES_128_GCM_SHA256_128 (RFC 9605 §8.1). */
export const AES_128_GCM_SHA256_128 = 0x0004;
/** AES_256_GCM_SHA512_128 (RFC 9605 §8.1). */
export const AES_256_GCM_SHA512_128 = 0x0005;

/**
 * The constants of a cipher suite (RFC 9605 Table 1).
 * @typedef {{hash: 'SHA-256' | 'SHA-512', nk: number, nn: number, nt: number}} SuiteParams
 */

/** @type {ReadonlyMap<number, SuiteParams>} */
const SUITES = new Map([
  [AES_128_GCM_SHA256_128, {hash: 'SHA-256', nk: 16, nn: 12, nt: 16}],
  [AES_256_GCM_SHA512_128, {hash: 'SHA-512', nk: 32, nn: 12, nt: 16}],
]);

const MAX_U64 = (1n << 64n) - 1n;

/**
 * Why an SFrame operation refused its input:
 * - `malformed`: not an SFrame ciphertext (bad header, too short);
 * - `unknown-kid`: no key for the KID in the header;
 * - `auth`: the AEAD tag does not verify (tampered, wrong key, wrong metadata);
 * - `replay`: the counter was seen before, or is older than the replay window;
 * - `exhausted`: a sender ran out of counter values;
 * - `invalid`: a bad argument (unknown cipher suite, KID or CTR out of range).
 * @typedef {'malformed' | 'unknown-kid' | 'auth' | 'replay' | 'exhausted' | 'invalid'} SFrameErrorCode
 */

/** The one error type of this module; the receiver drops the frame when it sees it. */
export class SFrameError extends Error {
  /**
   * @param {SFrameErrorCode} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'SFrameError';
    /** @type {SFrameErrorCode} */
    this.code = code;
  }
}

/**
 * @param {number} suite
 * @returns {SuiteParams}
 */
export function suiteParams(suite) {
  const params = SUITES.get(suite);
  if (!params) throw new SFrameError('invalid', `unsupported SFrame cipher suite ${suite}`);
  return params;
}

/**
 * @param {number | bigint} value
 * @param {string} what
 * @returns {bigint}
 */
function toU64(value, what) {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new SFrameError('invalid', `${what} must be an integer`);
  }
  const v = BigInt(value);
  if (v < 0n || v > MAX_U64) throw new SFrameError('invalid', `${what} out of range`);
  return v;
}

/**
 * A copy (or the same bytes) as a Uint8Array over a plain ArrayBuffer, as WebCrypto wants it.
 * @param {ArrayBuffer | ArrayBufferView} data
 * @returns {Uint8Array<ArrayBuffer>}
 */
function bytesOf(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (data.buffer instanceof ArrayBuffer) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return new Uint8Array(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}


/**
 * `value` as `length` bytes, big-endian.
 * @param {bigint} value
 * @param {number} length
 * @returns {Uint8Array<ArrayBuffer>}
 */
function bigEndian(value, length) {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/**
 * The number of bytes of the minimal big-endian encoding of `value` (1..8).
 * @param {bigint} value
 */
function minimalLength(value) {
  let length = 1;
  while (value >> BigInt(8 * length) > 0n) length++;
  return length;
}

// ---------------------------------------------------------------------------------------------
// Header (RFC 9605 §4.3)
// ---------------------------------------------------------------------------------------------

/**
 * Encodes an SFrame header: config byte |X|K(3)|Y|C(3)|, then KID and CTR as minimal big-endian
 * integers when they do not fit in 3 bits.
 * @param {number | bigint} kid
 * @param {number | bigint} ctr
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function encodeHeader(kid, ctr) {
  const k = toU64(kid, 'KID');
  const c = toU64(ctr, 'CTR');
  let config = 0;
  /** @type {Uint8Array[]} */
  const parts = [];
  if (k < 8n) {
    config |= Number(k) << 4;
  } else {
    const length = minimalLength(k);
    config |= 0x80 | ((length - 1) << 4);
    parts.push(bigEndian(k, length));
  }
  if (c < 8n) {
    config |= Number(c);
  } else {
    const length = minimalLength(c);
    config |= 0x08 | (length - 1);
    parts.push(bigEndian(c, length));
  }
  return concat(Uint8Array.of(config), ...parts);
}

/**
 * Reads one header field (KID or CTR) that follows the config byte.
 * @param {Uint8Array} bytes
 * @param {number} offset
 * @param {number} length
 * @param {string} what
 * @returns {bigint}
 */
function readField(bytes, offset, length, what) {
  if (offset + length > bytes.length) throw new SFrameError('malformed', `SFrame header: ${what} truncated`);
  if (bytes[offset] === 0) throw new SFrameError('malformed', `SFrame header: ${what} not minimally encoded`);
  let value = 0n;
  for (let i = 0; i < length; i++) value = (value << 8n) | BigInt(bytes[offset + i]);
  if (value < 8n) throw new SFrameError('malformed', `SFrame header: ${what} not minimally encoded`);
  return value;
}

/**
 * Decodes the SFrame header at `offset` of `data`. Refuses truncated headers and KID/CTR values that
 * are not minimally encoded (RFC 9605 §4.3 says they MUST be).
 * @param {ArrayBuffer | ArrayBufferView} data
 * @param {number} [offset]
 * @returns {{kid: bigint, ctr: bigint, length: number}} `length` is the header's size in bytes
 */
export function decodeHeader(data, offset = 0) {
  const bytes = bytesOf(data);
  if (offset < 0 || offset >= bytes.length) throw new SFrameError('malformed', 'SFrame header missing');
  const config = bytes[offset];
  let position = offset + 1;
  let kid;
  if (config & 0x80) {
    const length = ((config >> 4) & 0x07) + 1;
    kid = readField(bytes, position, length, 'KID');
    position += length;
  } else {
    kid = BigInt((config >> 4) & 0x07);
  }
  let ctr;
  if (config & 0x08) {
    const length = (config & 0x07) + 1;
    ctr = readField(bytes, position, length, 'CTR');
    position += length;
  } else {
    ctr = BigInt(config & 0x07);
  }
  return {kid, ctr, length: position - offset};
}

// ---------------------------------------------------------------------------------------------
// Keys (RFC 9605 §4.4.2)
// ---------------------------------------------------------------------------------------------

/**
 * The keying material of one KID: the AES-GCM `sframe_key` (a non-extractable CryptoKey usable
 * either for encryption or for decryption, never both) and the `sframe_salt`.
 * @typedef {{suite: CipherSuite, kid: bigint, key: CryptoKey, salt: Uint8Array<ArrayBuffer>}} SFrameKey
 */

/**
 * Imports a base key (the secret a sender shares with the receivers) as a non-extractable HKDF key.
 * The caller should overwrite `raw` once every key it needs is imported.
 * @param {ArrayBuffer | ArrayBufferView} raw
 * @returns {Promise<CryptoKey>}
 */
export function importBaseKey(raw) {
  return crypto.subtle.importKey('raw', bytesOf(raw), 'HKDF', false, ['deriveBits', 'deriveKey']);
}

/**
 * Random bytes for a new base key: as long as the suite's hash output (Nh).
 * @param {CipherSuite} suite
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function generateBaseKey(suite) {
  const {hash} = suiteParams(suite);
  return crypto.getRandomValues(new Uint8Array(hash === 'SHA-256' ? 32 : 64));
}

/**
 * "SFrame 1.0 Secret key " / "SFrame 1.0 Secret salt " + KID (8 bytes BE) + cipher suite (2 bytes BE).
 * @param {string} prefix
 * @param {bigint} kid
 * @param {number} suite
 */
function label(prefix, kid, suite) {
  return concat(new TextEncoder().encode(prefix), bigEndian(kid, 8), bigEndian(BigInt(suite), 2));
}

/**
 * Derives `sframe_key` and `sframe_salt` for a KID from a base key: HKDF-Extract with an empty salt,
 * then HKDF-Expand with the RFC's labels (WebCrypto's HKDF does both in one call).
 * @param {CipherSuite} suite
 * @param {number | bigint} kid
 * @param {CryptoKey | ArrayBuffer | ArrayBufferView} baseKey an HKDF CryptoKey (see importBaseKey) or raw bytes
 * @param {'encrypt' | 'decrypt'} usage RFC 9605 §4.4.1: a key is for encryption or decryption, never both
 * @param {{extractable?: boolean}} [options] `extractable` is for tests that compare `sframe_key`
 * @returns {Promise<SFrameKey>}
 */
export async function deriveSFrameKey(suite, kid, baseKey, usage, options = {}) {
  const params = suiteParams(suite);
  const k = toU64(kid, 'KID');
  const base = baseKey instanceof CryptoKey ? baseKey : await importBaseKey(baseKey);
  const empty = new Uint8Array(0);
  const key = await crypto.subtle.deriveKey(
    {name: 'HKDF', hash: params.hash, salt: empty, info: label('SFrame 1.0 Secret key ', k, suite)},
    base,
    {name: 'AES-GCM', length: params.nk * 8},
    options.extractable === true,
    [usage],
  );
  const salt = new Uint8Array(await crypto.subtle.deriveBits(
    {name: 'HKDF', hash: params.hash, salt: empty, info: label('SFrame 1.0 Secret salt ', k, suite)},
    base,
    params.nn * 8,
  ));
  return {suite, kid: k, key, salt};
}

/**
 * nonce = sframe_salt XOR CTR, CTR as a big-endian integer of Nn bytes (RFC 9605 §4.4.3).
 * @param {Uint8Array} salt
 * @param {number | bigint} ctr
 * @returns {Uint8Array<ArrayBuffer>}
 */
export function makeNonce(salt, ctr) {
  const nonce = new Uint8Array(salt);
  const counter = bigEndian(toU64(ctr, 'CTR'), nonce.length);
  for (let i = 0; i < nonce.length; i++) nonce[i] ^= counter[i];
  return nonce;
}

// ---------------------------------------------------------------------------------------------
// Encryption and decryption (RFC 9605 §4.4.3, §4.4.4)
// ---------------------------------------------------------------------------------------------

/**
 * Encrypts one frame: header || AEAD.Encrypt(sframe_key, nonce, header || metadata, plaintext).
 * The caller guarantees that (KID, CTR) is never used twice with the same key: use SenderContext.
 * @param {SFrameKey} key
 * @param {number | bigint} ctr
 * @param {ArrayBuffer | ArrayBufferView} metadata authenticated, not encrypted, not included in the output
 * @param {ArrayBuffer | ArrayBufferView} plaintext
 * @returns {Promise<Uint8Array<ArrayBuffer>>} header || ciphertext || tag
 */
export async function encrypt(key, ctr, metadata, plaintext) {
  const params = suiteParams(key.suite);
  const header = encodeHeader(key.kid, ctr);
  const sealed = await crypto.subtle.encrypt(
    {
      name: 'AES-GCM',
      iv: makeNonce(key.salt, ctr),
      additionalData: concat(header, bytesOf(metadata)),
      tagLength: params.nt * 8,
    },
    key.key,
    bytesOf(plaintext),
  );
  return concat(header, new Uint8Array(sealed));
}

/**
 * Anything that finds the key of a KID; a Map<bigint, SFrameKey> will do.
 * @typedef {{get(kid: bigint): SFrameKey | undefined}} KeyStore
 */

/**
 * Opens a parsed SFrame ciphertext with a known key.
 * @param {SFrameKey} key
 * @param {{ctr: bigint, length: number}} header
 * @param {Uint8Array<ArrayBuffer>} bytes the SFrame ciphertext (header first)
 * @param {Uint8Array<ArrayBuffer>} metadata
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
async function open(key, header, bytes, metadata) {
  const params = suiteParams(key.suite);
  if (bytes.length - header.length < params.nt) throw new SFrameError('malformed', 'SFrame ciphertext too short');
  const headerBytes = bytes.subarray(0, header.length);
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: makeNonce(key.salt, header.ctr),
        additionalData: concat(headerBytes, metadata),
        tagLength: params.nt * 8,
      },
      key.key,
      bytes.subarray(header.length),
    );
    return new Uint8Array(plain);
  } catch {
    throw new SFrameError('auth', 'SFrame authentication failed');
  }
}

/**
 * Decrypts one SFrame ciphertext with the key its header names. No replay check: ReceiverContext
 * adds it.
 * @param {KeyStore} keyStore
 * @param {ArrayBuffer | ArrayBufferView} metadata the same metadata the sender authenticated
 * @param {ArrayBuffer | ArrayBufferView} sframeCiphertext header || ciphertext || tag
 * @returns {Promise<Uint8Array<ArrayBuffer>>} the plaintext
 */
export async function decrypt(keyStore, metadata, sframeCiphertext) {
  const bytes = bytesOf(sframeCiphertext);
  const header = decodeHeader(bytes);
  const key = keyStore.get(header.kid);
  if (!key) throw new SFrameError('unknown-kid', `no SFrame key for KID ${header.kid}`);
  return open(key, header, bytes, bytesOf(metadata));
}

// ---------------------------------------------------------------------------------------------
// Contexts
// ---------------------------------------------------------------------------------------------

/**
 * One sender's key: encrypts with a counter that starts at 0 and only goes up, so that no
 * (KID, CTR) is used twice. Make one SenderContext per base key and KID, and a new KID for each new
 * key (rotation); never two contexts for the same KID.
 */
export class SenderContext {
  /** @type {SFrameKey} */
  #key;
  /** @type {bigint} */
  #counter;

  /**
   * @param {SFrameKey} key a key derived with usage 'encrypt'
   * @param {number | bigint} [firstCounter]
   */
  constructor(key, firstCounter = 0n) {
    this.#key = key;
    this.#counter = toU64(firstCounter, 'CTR');
  }

  /**
   * @param {CipherSuite} suite
   * @param {number | bigint} kid
   * @param {CryptoKey | ArrayBuffer | ArrayBufferView} baseKey
   * @returns {Promise<SenderContext>}
   */
  static async create(suite, kid, baseKey) {
    return new SenderContext(await deriveSFrameKey(suite, kid, baseKey, 'encrypt'));
  }

  /** @returns {bigint} */
  get kid() {
    return this.#key.kid;
  }

  /** @returns {CipherSuite} */
  get suite() {
    return this.#key.suite;
  }

  /** The counter the next frame will use. @returns {bigint} */
  get counter() {
    return this.#counter;
  }

  /**
   * Encrypts one frame with the next counter value (taken before any await, so concurrent calls
   * never share one).
   * @param {ArrayBuffer | ArrayBufferView} metadata
   * @param {ArrayBuffer | ArrayBufferView} plaintext
   * @returns {Promise<Uint8Array<ArrayBuffer>>} header || ciphertext || tag
   */
  encrypt(metadata, plaintext) {
    const ctr = this.#counter;
    if (ctr > MAX_U64) return Promise.reject(new SFrameError('exhausted', 'SFrame counter exhausted'));
    this.#counter = ctr + 1n;
    return encrypt(this.#key, ctr, metadata, plaintext);
  }
}

/**
 * Remembers which counters of one KID were accepted: the highest one, and a bitmap of the `size`
 * counters below and including it. Anything older than the window is refused.
 */
class ReplayWindow {
  /** @param {number} size */
  constructor(size) {
    this.size = BigInt(size);
    this.mask = (1n << this.size) - 1n;
    /** @type {bigint} */
    this.highest = -1n;
    /** @type {bigint} bit i set: counter `highest - i` was accepted */
    this.seen = 0n;
  }

  /**
   * Whether `ctr` would be accepted now.
   * @param {bigint} ctr
   */
  allows(ctr) {
    if (ctr > this.highest) return true;
    const age = this.highest - ctr;
    if (age >= this.size) return false;
    return (this.seen & (1n << age)) === 0n;
  }

  /**
   * Records `ctr`; false if it was not allowed (e.g. accepted meanwhile by a concurrent decrypt).
   * @param {bigint} ctr
   */
  accept(ctr) {
    if (!this.allows(ctr)) return false;
    if (ctr > this.highest) {
      const shift = ctr - this.highest;
      this.seen = shift >= this.size ? 1n : ((this.seen << shift) | 1n) & this.mask;
      this.highest = ctr;
    } else {
      this.seen |= 1n << (this.highest - ctr);
    }
    return true;
  }
}

/** The default replay window, in frames: generous for reordering, small enough to be cheap. */
export const DEFAULT_REPLAY_WINDOW = 128;

/**
 * The receiving side: keys by KID (one per remote sender key) and a replay window per KID. A frame
 * is accepted only if it authenticates and its counter is new and not older than the window; the
 * counter is recorded only after authentication, so forged frames cannot move the window.
 */
export class ReceiverContext {
  /** @type {Map<bigint, {key: SFrameKey, window: ReplayWindow}>} */
  #keys = new Map();
  /** @type {number} */
  #windowSize;

  /** @param {{windowSize?: number}} [options] */
  constructor(options = {}) {
    const size = options.windowSize ?? DEFAULT_REPLAY_WINDOW;
    if (!Number.isSafeInteger(size) || size < 1) throw new SFrameError('invalid', 'bad replay window size');
    this.#windowSize = size;
  }

  /**
   * Adds (or replaces) the key of a KID. Replacing keeps the KID's replay window, so adding the same
   * key twice cannot reopen old counters.
   * @param {CipherSuite} suite
   * @param {number | bigint} kid
   * @param {CryptoKey | ArrayBuffer | ArrayBufferView} baseKey
   * @returns {Promise<void>}
   */
  async addKey(suite, kid, baseKey) {
    const key = await deriveSFrameKey(suite, kid, baseKey, 'decrypt');
    const existing = this.#keys.get(key.kid);
    this.#keys.set(key.kid, {key, window: existing ? existing.window : new ReplayWindow(this.#windowSize)});
  }

  /**
   * Forgets the key of a KID (a sender left, or its key was rotated away).
   * @param {number | bigint} kid
   * @returns {boolean} whether there was one
   */
  removeKey(kid) {
    return this.#keys.delete(toU64(kid, 'KID'));
  }

  /**
   * @param {number | bigint} kid
   * @returns {boolean}
   */
  hasKey(kid) {
    return this.#keys.has(toU64(kid, 'KID'));
  }

  /**
   * Decrypts and authenticates one SFrame ciphertext, refusing replays.
   * @param {ArrayBuffer | ArrayBufferView} metadata
   * @param {ArrayBuffer | ArrayBufferView} sframeCiphertext
   * @returns {Promise<Uint8Array<ArrayBuffer>>} the plaintext
   * @throws {SFrameError} malformed, unknown-kid, replay or auth
   */
  async decrypt(metadata, sframeCiphertext) {
    const bytes = bytesOf(sframeCiphertext);
    const header = decodeHeader(bytes);
    const entry = this.#keys.get(header.kid);
    if (!entry) throw new SFrameError('unknown-kid', `no SFrame key for KID ${header.kid}`);
    if (!entry.window.allows(header.ctr)) {
      throw new SFrameError('replay', `SFrame counter ${header.ctr} of KID ${header.kid} replayed or too old`);
    }
    const plaintext = await open(entry.key, header, bytes, bytesOf(metadata));
    if (!entry.window.accept(header.ctr)) {
      throw new SFrameError('replay', `SFrame counter ${header.ctr} of KID ${header.kid} replayed`);
    }
    return plaintext;
  }
}
