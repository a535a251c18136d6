// One tab of a browser runs its chat device at a time. MLS keeps secrets per device that move on
// with every message it sends (its ratchet) and every commit: two tabs going on from the same
// saved state would encrypt twice with one key and nonce, and overwrite each other's group state
// (RFC 9420 §9: each generation is used once). The Web Locks API gives the device to one tab;
// another waits, says so, and takes over when that tab closes.

const LOCK = 'rathaus-chat-device';

/**
 * Runs `start` once this tab holds the chat device, and holds it for the page's life; calls
 * `waiting` first if another tab of this browser holds it now.
 * @template T
 * @param {() => void} waiting
 * @param {() => Promise<T>} start
 * @returns {Promise<T>}
 */
export function whenDeviceFree(waiting, start) {
  if (!navigator.locks) return start(); // no such browser runs the chat (it needs WebCrypto too)
  return new Promise((resolve, reject) => {
    /** @param {Lock | null} lock */
    const hold = async (lock) => {
      if (!lock) return;
      start().then(resolve, reject);
      await new Promise(() => {}); // kept until the page goes
    };
    navigator.locks.request(LOCK, { ifAvailable: true }, async (lock) => {
      if (lock) return hold(lock);
      waiting();
      navigator.locks.request(LOCK, hold).catch(reject);
      return undefined;
    }).catch(reject);
  });
}

/**
 * Runs `work` if no other tab of this browser holds the chat device now (else skips it: that
 * tab does it), holding the device meanwhile.
 * @param {() => Promise<unknown>} work
 */
export async function ifDeviceFree(work) {
  if (!navigator.locks) return work();
  return navigator.locks.request(LOCK, { ifAvailable: true }, async (lock) => (lock ? work() : undefined));
}
