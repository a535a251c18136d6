// Chat's group states on the device: one record per room (key: the room's key string), a plain
// object of Uint8Arrays, numbers and strings: a `SavedGroup` of js/chat/mls.js and what the caller
// keeps beside it (e.g. `{saved, position}`). No DOM: IndexedDB (also available in workers).
//
// A record holds the group's epoch secrets and HPKE private keys (not the signature key: that
// stays a CryptoKey of e2ee/device.js), so it stays on the device: nothing here sends it anywhere.

import { openDatabase } from '../idb.js';

/**
 * Where the group states live. `put` replaces the record of `key`; `get` is undefined for none.
 * @typedef {{get(key: string): Promise<any>, put(key: string, value: object): Promise<void>,
 *   delete(key: string): Promise<void>, keys(): Promise<string[]>}} GroupStore
 */

/** An in-memory store: for tests, and where IndexedDB is unavailable (states last as long as the page). */
export class MemoryGroupStore {
  /** @type {Map<string, object>} */
  #records = new Map();

  /**
   * A copy, as IndexedDB would give: changing it changes nothing stored.
   * @param {string} key
   * @returns {Promise<any>}
   */
  async get(key) {
    const value = this.#records.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  /**
   * @param {string} key
   * @param {object} value
   */
  async put(key, value) {
    this.#records.set(key, structuredClone(value));
  }

  /** @param {string} key */
  async delete(key) {
    this.#records.delete(key);
  }

  /** @returns {Promise<string[]>} */
  async keys() {
    return [...this.#records.keys()].sort();
  }
}

const DB_NAME = 'rathaus-chat';
const DB_STORE = 'groups';

/** The store of a browser profile: one IndexedDB object store, one record per room. */
export class IndexedDbGroupStore {
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

  /**
   * One request in its own transaction; resolves when the transaction has completed (so a `put`
   * has reached the disk, as far as the browser says, before the caller goes on).
   * @template T
   * @param {IDBTransactionMode} mode
   * @param {(store: IDBObjectStore) => IDBRequest<T>} operation
   * @returns {Promise<T>}
   */
  async #run(mode, operation) {
    const db = await this.#open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(DB_STORE, mode);
      const request = operation(transaction.objectStore(DB_STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error ?? request.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  }

  /**
   * @param {string} key
   * @returns {Promise<any>}
   */
  get(key) {
    return this.#run('readonly', (store) => store.get(key));
  }

  /**
   * @param {string} key
   * @param {object} value
   * @returns {Promise<void>}
   */
  async put(key, value) {
    await this.#run('readwrite', (store) => store.put(value, key));
  }

  /**
   * @param {string} key
   * @returns {Promise<void>}
   */
  async delete(key) {
    await this.#run('readwrite', (store) => store.delete(key));
  }

  /** @returns {Promise<string[]>} */
  async keys() {
    const keys = await this.#run('readonly', (store) => store.getAllKeys());
    return keys.filter((key) => typeof key === 'string');
  }
}

/**
 * The IndexedDB store where IndexedDB exists, else an in-memory one.
 * @returns {GroupStore}
 */
export function defaultGroupStore() {
  return typeof indexedDB === 'undefined' ? new MemoryGroupStore() : new IndexedDbGroupStore();
}
