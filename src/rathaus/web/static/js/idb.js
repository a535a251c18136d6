// IndexedDB's opening, shared by the stores that keep keys on the device (js/e2ee/device.js,
// js/chat/group-store.js). No DOM.

/**
 * Opens database `name` (version 1) with one object store `storeName`, made on first use.
 * A failed open is forgotten by the caller so that the next call tries again.
 * @param {string} name
 * @param {string} storeName
 * @returns {Promise<IDBDatabase>}
 */
export function openDatabase(name, storeName) {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(storeName)) request.result.createObjectStore(storeName);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'));
    request.onblocked = () => reject(new Error('IndexedDB open blocked'));
  });
}
