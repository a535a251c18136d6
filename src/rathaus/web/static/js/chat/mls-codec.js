// Chat's MLS (js/chat/mls.js), the layer below the groups: the one error type, the ciphersuite,
// and the bytes in and out (MLSMessages, key packages, RefHash). No group state, no I/O.
// mls.js re-exports what is public here.

import * as ts from '../../vendor/ts-mls/dist/src/index.js';
import {concat} from '../e2ee/encoding.js';

/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').CiphersuiteImpl} CiphersuiteImpl */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').ClientConfig} ClientConfig */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').KeyPackage} KeyPackage */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').PrivateKeyPackage} PrivateKeyPackage */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').MLSMessage} MLSMessage */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').RatchetTree} RatchetTree */

export const CIPHERSUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
/** How long a key package may be used (seconds); the delivery service drops older ones. */
export const KEY_PACKAGE_LIFETIME = 28 * 24 * 3600;
const CLOCK_SKEW = 3600;

/**
 * Why an operation refused:
 * - `malformed`: not an MLS message of the expected kind, or for another group;
 * - `stale-epoch`: from an epoch whose keys this device does not hold (before it joined, or long
 *   past), or a commit for an epoch that another commit already won;
 * - `future-epoch`: from a later epoch: this device missed a commit (fetch the missing ones);
 * - `rejected`: it does not verify (signature, AEAD tag, membership or confirmation tag, a
 *   credential the directory refuses, an invalid proposal), or its key was used already (replay);
 * - `pending-commit`: this device's last commit still waits for the delivery service;
 * - `not-member`: no such member, or this device itself (MLS has no self-removal by commit);
 * - `inactive`: this device was removed from the group (or replaced by its own resync);
 * - `no-key-package`: the welcome is for none of the key packages given;
 * - `wrong-device`: a saved group of another device.
 * @typedef {'malformed' | 'stale-epoch' | 'future-epoch' | 'rejected' | 'pending-commit' | 'not-member'
 *   | 'inactive' | 'no-key-package' | 'wrong-device'} MlsErrorCode
 */

/** The one error type of chat's MLS. */
export class MlsChatError extends Error {
  /**
   * @param {MlsErrorCode} code
   * @param {string} message
   * @param {unknown} [cause]
   */
  constructor(code, message, cause) {
    super(message, cause === undefined ? undefined : {cause});
    this.name = 'MlsChatError';
    /** @type {MlsErrorCode} */
    this.code = code;
  }
}

/**
 * A device as MLS sees it. `cs` signs with the device's CryptoKey.
 * @typedef {{id: string, identity: Uint8Array, signatureKey: Uint8Array, handle: Uint8Array,
 *   cs: CiphersuiteImpl, config: ClientConfig}} MlsDevice
 */

/**
 * A key package: `bytes` (an MLSMessage) go to the delivery service; the rest stays on the device
 * until a welcome uses it (a plain object of bytes: IndexedDB stores it as it is).
 * @typedef {{bytes: Uint8Array, ref: Uint8Array, publicPackage: KeyPackage, privatePackage: PrivateKeyPackage}} OwnKeyPackage
 */

/** @typedef {{leafIndex: number, identity: string}} Member */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** @type {Promise<CiphersuiteImpl> | null} */
let baseSuite = null;

/** The ciphersuite without a device (verification, hashing, HPKE). */
export function suite() {
  baseSuite ??= ts.getCiphersuiteImpl(ts.getCiphersuiteFromName(CIPHERSUITE));
  return baseSuite;
}

/**
 * @param {unknown} error
 * @returns {string}
 */
export function reason(error) {
  return error instanceof Error ? error.message : String(error);
}

/** @param {Uint8Array[]} secrets */
export function zero(secrets) {
  for (const secret of secrets) ts.zeroOutUint8Array(secret);
}

/**
 * Decodes one MLSMessage that must fill `bytes` exactly.
 * @param {Uint8Array} bytes
 * @returns {MLSMessage}
 */
export function decodeMessage(bytes) {
  let decoded;
  try {
    decoded = ts.decodeMlsMessage(bytes, 0);
  } catch (error) {
    throw new MlsChatError('malformed', 'not an MLS message', error);
  }
  if (!decoded || decoded[1] !== bytes.length) throw new MlsChatError('malformed', 'not an MLS message');
  return decoded[0];
}

/**
 * The identity (device id) of a leaf with a basic credential, else null.
 * @param {import('../../vendor/ts-mls/dist/src/index.js').LeafNode} leaf
 */
export function identityOf(leaf) {
  return leaf.credential.credentialType === 'basic' ? decoder.decode(leaf.credential.identity) : null;
}

/** @param {RatchetTree} tree @returns {Member[]} */
export function membersOf(tree) {
  /** @type {Member[]} */
  const members = [];
  for (let node = 0; node < tree.length; node += 2) {
    const entry = tree[node];
    const identity = entry?.nodeType === 'leaf' ? identityOf(entry.leaf) : null;
    if (identity !== null) members.push({leafIndex: node / 2, identity});
  }
  return members;
}

/**
 * RFC 9420 §5.2 RefHash(label, value): Hash(VarBytes(label) || VarBytes(value)).
 * @param {string} label
 * @param {Uint8Array} value
 */
export async function refHash(label, value) {
  const data = concat(varBytes(encoder.encode(label)), varBytes(value));
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

/**
 * A fresh key package of `device` (one per future group: the delivery service hands each out once).
 * @param {MlsDevice} device
 * @returns {Promise<OwnKeyPackage>}
 */
export async function keyPackage(device) {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const lifetime = {notBefore: now - BigInt(CLOCK_SKEW), notAfter: now + BigInt(KEY_PACKAGE_LIFETIME)};
  const {publicPackage, privatePackage} = await ts.generateKeyPackageWithKey(
    {credentialType: 'basic', identity: device.identity}, ts.defaultCapabilities(), lifetime, [],
    {signKey: device.handle, publicKey: device.signatureKey}, device.cs);
  const bytes = ts.encodeMlsMessage({version: 'mls10', wireformat: 'mls_key_package', keyPackage: publicPackage});
  // The KeyPackage struct is the MLSMessage without its version and wire format (2 + 2 bytes).
  const ref = await refHash('MLS 1.0 KeyPackage Reference', bytes.subarray(4));
  return {bytes, ref, publicPackage, privatePackage};
}

/** @param {Uint8Array} bytes RFC 9420 §2.1.2: a variable-length vector (QUIC-style varint length) */
function varBytes(bytes) {
  const n = bytes.length;
  /** @type {number[]} */
  let prefix;
  if (n < 0x40) prefix = [n];
  else if (n < 0x4000) prefix = [0x40 | (n >> 8), n & 0xff];
  else if (n < 0x40000000) prefix = [0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  else throw new RangeError('vector too long');
  return concat(Uint8Array.from(prefix), bytes);
}
