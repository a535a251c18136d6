// This device's MLS key packages: the public halves wait on the server, each handed out once to
// a member's device that adds this device to a room's group (even while this device is offline);
// the private halves stay here (the group store, key `key-packages`) until a welcome uses one.

import * as mls from './mls.js';
import {b64urlEncode} from '../e2ee/encoding.js';

/** @typedef {import('./mls.js').OwnKeyPackage} OwnKeyPackage */
/** @typedef {{get(key: string): Promise<any>, put(key: string, value: any): Promise<void>}} Store */

/** Kept waiting on the server: a device is in about this many new groups before it is online again. */
export const TARGET = 20;
/** Below this many, more are made. */
export const LOW = 10;
/** Private halves kept at most (the oldest go: the server has handed them out or dropped them). */
const KEEP = 100;
const KEY = 'key-packages';

/**
 * Makes and publishes key packages when fewer than LOW wait on the server.
 * @param {Store} store
 * @param {import('./mls.js').MlsDevice} device
 * @param {number} waiting what the server says it holds
 * @param {(packages: string[]) => Promise<boolean>} publish POST /api/chat/key-packages
 */
export async function topUp(store, device, waiting, publish) {
  if (waiting >= LOW) return;
  const made = [];
  for (let i = waiting; i < TARGET; i++) made.push(await mls.keyPackage(device));
  /** @type {OwnKeyPackage[]} */
  const kept = (await store.get(KEY)) ?? [];
  // Kept before they are published: a welcome may come for any published one.
  await store.put(KEY, [...kept, ...made].slice(-KEEP));
  await publish(made.map((kp) => b64urlEncode(kp.bytes)));
}

/**
 * Joins a group by a welcome made for one of this device's key packages, and forgets that one.
 * @param {Store} store
 * @param {import('./mls.js').MlsDevice} device
 * @param {Uint8Array} welcome
 * @returns {Promise<import('./mls.js').Group | null>} null: for none of them
 */
export async function joinByWelcome(store, device, welcome) {
  /** @type {OwnKeyPackage[]} */
  const kept = (await store.get(KEY)) ?? [];
  for (const own of kept) {
    try {
      const group = await mls.join(device, welcome, [own]);
      await store.put(KEY, kept.filter((kp) => kp !== own));
      return group;
    } catch (error) {
      if (!(error instanceof mls.MlsChatError && error.code === 'no-key-package')) throw error;
    }
  }
  return null;
}
