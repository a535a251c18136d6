// The device identity of end-to-end encryption: one per browser profile (members and guests alike).
// No DOM: WebCrypto and, for persistence, IndexedDB (also available in workers).
//
// A device has two key pairs, generated in the browser with NON-extractable private keys:
// - X25519 for key agreement (deriveBits): key envelopes are sealed to it;
// - Ed25519 for signatures: the device signs the envelopes it sends.
// The private keys never leave WebCrypto: IndexedDB stores the CryptoKey objects themselves
// (structured clone), not exported bytes, and nothing in this module can export them. Only the raw
// 32-byte public keys are exported, base64url-encoded, for the `join.device` message.

import { openDatabase } from '../idb.js';
import {b64urlEncode, randomBytes} from './encoding.js';

/**
 * What the server and the other participants learn about a device (`join.device` without `e2ee`).
 * @typedef {{id: string, x25519: string, ed25519: string}} DevicePublicInfo
 */

/**
 * A device as stored: the CryptoKeyPairs themselves (private keys non-extractable).
 * @typedef {{version: 1, id: string, x25519: CryptoKeyPair, ed25519: CryptoKeyPair}} StoredDevice
 */

/**
 * A loaded device identity.
 * @typedef {{id: string, x25519: CryptoKeyPair, ed25519: CryptoKeyPair, publicInfo: DevicePublicInfo}} Device
 */

/**
 * Where a device identity lives. `putIfAbsent` stores `device` unless one is stored already, and
 * returns the one that is stored afterwards (so that two tabs creating a device at the same moment
 * end up with the same one).
 * @typedef {{get(): Promise<StoredDevice | undefined>, putIfAbsent(device: StoredDevice): Promise<StoredDevice>}} DeviceStore
 */

/** An in-memory store: for tests, and where IndexedDB is unavailable (then the device lasts as long as the page). */
export class MemoryDeviceStore {
  /** @type {StoredDevice | undefined} */
  #device;

  /** @returns {Promise<StoredDevice | undefined>} */
  async get() {
    return this.#device;
  }

  /**
   * @param {StoredDevice} device
   * @returns {Promise<StoredDevice>}
   */
  async putIfAbsent(device) {
    if (!isStoredDevice(this.#device)) this.#device = device;
    return this.#device;
  }
}

const DB_NAME = 'rathaus-e2ee';
const DB_STORE = 'device';
const DB_KEY = 'self';

/** The store of a browser profile: one IndexedDB record holding the CryptoKey objects. */
export class IndexedDbDeviceStore {
  /** @type {Promise<IDBDatabase> | null} */
  #db = null;
  /** @type {string} */
  #name;

  /** @param {{name?: string}} [options] the database name (tests) */
  constructor(options = {}) {
    this.#name = options.name ?? DB_NAME;
  }

  /** @returns {Promise<IDBDatabase>} */
  #open() {
    if (!this.#db) {
      this.#db = openDatabase(this.#name, DB_STORE);
      this.#db.catch(() => { this.#db = null; });
    }
    return this.#db;
  }

  /** @returns {Promise<StoredDevice | undefined>} */
  async get() {
    const db = await this.#open();
    return new Promise((resolve, reject) => {
      const request = db.transaction(DB_STORE, 'readonly').objectStore(DB_STORE).get(DB_KEY);
      request.onsuccess = () => resolve(/** @type {StoredDevice | undefined} */ (request.result));
      request.onerror = () => reject(request.error);
    });
  }

  /**
   * Reads and (if empty) writes in one readwrite transaction: the first writer wins.
   * @param {StoredDevice} device
   * @returns {Promise<StoredDevice>}
   */
  async putIfAbsent(device) {
    const db = await this.#open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(DB_STORE, 'readwrite');
      const store = transaction.objectStore(DB_STORE);
      /** @type {StoredDevice} */
      let result = device;
      const read = store.get(DB_KEY);
      read.onsuccess = () => {
        if (isStoredDevice(read.result)) result = read.result;
        else store.put(device, DB_KEY);
      };
      transaction.oncomplete = () => resolve(result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  }
}

/**
 * The IndexedDB store where IndexedDB exists, else an in-memory one (the device then lives as long
 * as the page, which still works: other participants learn its public keys on `join`).
 * @returns {DeviceStore}
 */
export function defaultDeviceStore() {
  return typeof indexedDB === 'undefined' ? new MemoryDeviceStore() : new IndexedDbDeviceStore();
}

/**
 * @param {unknown} key
 * @param {string} algorithm
 * @param {KeyType} type
 */
function isKey(key, algorithm, type) {
  return key instanceof CryptoKey && key.algorithm.name === algorithm && key.type === type
    && (type === 'public' || !key.extractable);
}

/**
 * Whether a stored record is a usable device (a record of an older or broken version is replaced).
 * @param {unknown} value
 * @returns {value is StoredDevice}
 */
function isStoredDevice(value) {
  if (typeof value !== 'object' || value === null) return false;
  const d = /** @type {Record<string, any>} */ (value);
  return d.version === 1 && typeof d.id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(d.id)
    && typeof d.x25519 === 'object' && d.x25519 !== null
    && isKey(d.x25519.privateKey, 'X25519', 'private') && isKey(d.x25519.publicKey, 'X25519', 'public')
    && typeof d.ed25519 === 'object' && d.ed25519 !== null
    && isKey(d.ed25519.privateKey, 'Ed25519', 'private') && isKey(d.ed25519.publicKey, 'Ed25519', 'public');
}

/**
 * Generates a key pair whose private key is non-extractable (the public key always is extractable).
 * @param {'X25519' | 'Ed25519'} name
 * @returns {Promise<CryptoKeyPair>}
 */
async function generatePair(name) {
  /** @type {KeyUsage[]} */
  const usages = name === 'X25519' ? ['deriveBits'] : ['sign', 'verify'];
  const pair = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({name}, false, usages));
  return pair;
}

/**
 * A new device identity (not stored).
 * @returns {Promise<StoredDevice>}
 */
export async function createDevice() {
  const [x25519, ed25519] = await Promise.all([generatePair('X25519'), generatePair('Ed25519')]);
  return {version: 1, id: b64urlEncode(randomBytes(16)), x25519, ed25519};
}

/**
 * The raw public key, base64url.
 * @param {CryptoKey} publicKey
 */
export async function exportPublicKey(publicKey) {
  return b64urlEncode(new Uint8Array(await crypto.subtle.exportKey('raw', publicKey)));
}

/**
 * The device of this browser profile: the stored one, or a new one that is stored first.
 * @param {DeviceStore} store
 * @returns {Promise<Device>}
 */
export async function loadOrCreateDevice(store) {
  let stored = await store.get();
  if (!isStoredDevice(stored)) stored = await store.putIfAbsent(await createDevice());
  // A store replaces an unusable record (putIfAbsent treats it as absent); one that does not is broken.
  if (!isStoredDevice(stored)) throw new Error('the E2EE device store returned an unusable device');
  const [x25519, ed25519] = await Promise.all([
    exportPublicKey(stored.x25519.publicKey),
    exportPublicKey(stored.ed25519.publicKey),
  ]);
  return {
    id: stored.id,
    x25519: stored.x25519,
    ed25519: stored.ed25519,
    publicInfo: {id: stored.id, x25519, ed25519},
  };
}

/**
 * Whether this browser's WebCrypto has what end-to-end encryption needs (X25519, Ed25519, HKDF,
 * AES-GCM); false, never a throw, where it does not.
 * @returns {Promise<boolean>}
 */
export async function deviceCryptoSupported() {
  try {
    if (typeof crypto === 'undefined' || !crypto.subtle) return false;
    await Promise.all([generatePair('X25519'), generatePair('Ed25519')]);
    return true;
  } catch {
    return false;
  }
}
