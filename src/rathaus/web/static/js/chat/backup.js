// The member's backup of their chat history: a file they keep, sealed with a passphrase, that a
// new device imports to read the past. MLS keeps no keys of the past (every message key is deleted
// once used: forward secrecy), so what a device can hand on is what it decrypted: the messages
// themselves. The server never sees the file, the passphrase or its key. No DOM.
//
// File: "RCB1" | salt (16) | PBKDF2 iterations (uint32, big-endian) | IV (12) | AES-256-GCM of
// the JSON {v: 1, user, made, rooms: {<room>: ThreadMessage[]}}, the header before it as
// additional data. Key: PBKDF2-HMAC-SHA-256 of the passphrase (WebCrypto has it; Argon2id would
// need WebAssembly, which the pages' CSP does not allow), at least 600,000 iterations (OWASP 2023).

import { restore } from './thread.js';

/** @typedef {import('./thread.js').ThreadMessage} ThreadMessage */
/** @typedef {import('./client.js').RoomRecord} RoomRecord */
/** @typedef {import('./group-store.js').GroupStore} GroupStore */

export const ITERATIONS = 600000;
export const MIN_PASSPHRASE = 12; // characters
const MAGIC = new TextEncoder().encode('RCB1');
const HEADER = MAGIC.length + 16 + 4 + 12;
const MAX_KEPT = 5000; // messages per room, as the chat client keeps them

export class BackupError extends Error {
  /** @param {'passphrase' | 'not-a-backup' | 'other-user'} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** @param {string} passphrase @param {Uint8Array<ArrayBuffer>} salt @param {number} iterations */
async function keyOf(passphrase, salt, iterations) {
  // NFC: "ü" typed on one keyboard and pasted from another must be the same passphrase.
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** @param {ThreadMessage} m a message this device could read */
export function readable(m) {
  return m.problem === null && !m.deleted && (m.body !== null || m.file !== null);
}

/**
 * The sealed backup of every room this device holds messages of.
 * @param {GroupStore} store @param {string} passphrase @param {string} user whose it is
 * @returns {Promise<{bytes: Uint8Array<ArrayBuffer>, rooms: number, messages: number}>}
 */
export async function exportBackup(store, passphrase, user) {
  if (passphrase.length < MIN_PASSPHRASE) throw new BackupError('passphrase', `at least ${MIN_PASSPHRASE} characters`);
  /** @type {Record<string, ThreadMessage[]>} */
  const rooms = {};
  let messages = 0;
  for (const key of await store.keys()) {
    if (!key.startsWith('room:')) continue;
    const record = /** @type {RoomRecord | undefined} */ (await store.get(key));
    const kept = (record?.messages ?? []).filter(readable);
    if (!kept.length) continue;
    rooms[key.slice('room:'.length)] = kept;
    messages += kept.length;
  }
  const plain = new TextEncoder().encode(JSON.stringify({ v: 1, user, made: Date.now(), rooms }));
  const header = new Uint8Array(HEADER);
  header.set(MAGIC);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  header.set(salt, 4);
  new DataView(header.buffer).setUint32(20, ITERATIONS);
  header.set(iv, 24);
  const key = await keyOf(passphrase, salt, ITERATIONS);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: header }, key, plain));
  const bytes = new Uint8Array(HEADER + sealed.length);
  bytes.set(header);
  bytes.set(sealed, HEADER);
  return { bytes, rooms: Object.keys(rooms).length, messages };
}

/**
 * Adds `list` to a room's record, in order: what the record has stays, unless it could not read
 * it; at most the newest MAX_KEPT. Changes `record`.
 * Each is rebuilt field by field (thread.js's restore): the file is nobody's checked JSON.
 * @param {RoomRecord} record @param {unknown[]} list @param {string} [sharedBy] whose history it is
 * @returns {ThreadMessage[]} the messages added
 */
export function merge(record, list, sharedBy = undefined) {
  const bySeq = new Map(record.messages.map((m) => [m.seq, m]));
  const gone = new Set(record.gone ?? []); // deleted, as this device learnt: never back
  /** @type {ThreadMessage[]} */
  const added = [];
  for (const candidate of list.slice(-MAX_KEPT)) {
    const message = restore(candidate);
    if (!message || gone.has(message.seq)) continue;
    const here = bySeq.get(message.seq);
    if (here && (readable(here) || here.deleted)) continue;
    if (sharedBy !== undefined) message.sharedBy = sharedBy;
    bySeq.set(message.seq, message);
    added.push(message);
  }
  if (added.length) record.messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-MAX_KEPT);
  return added.filter((m) => record.messages.includes(m));
}

/**
 * Opens a backup and adds its messages to this device's rooms (what the device has already stays
 * as it is; a message it could not read is replaced by the backup's).
 * @param {GroupStore} store @param {Uint8Array} bytes @param {string} passphrase @param {string} user
 * @returns {Promise<{rooms: number, messages: number}>} what was added
 */
export async function importBackup(store, bytes, passphrase, user) {
  if (bytes.length <= HEADER || !MAGIC.every((b, i) => bytes[i] === b)) {
    throw new BackupError('not-a-backup', 'this is no Rathaus chat backup');
  }
  const header = bytes.slice(0, HEADER);
  const iterations = new DataView(header.buffer).getUint32(20);
  if (iterations < ITERATIONS || iterations > 100 * ITERATIONS) throw new BackupError('not-a-backup', 'unexpected key derivation');
  let data;
  try {
    const key = await keyOf(passphrase, header.slice(4, 20), iterations);
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: header.slice(24, 36), additionalData: header }, key, bytes.slice(HEADER));
    data = JSON.parse(new TextDecoder().decode(plain));
  } catch {
    throw new BackupError('passphrase', 'wrong passphrase, or the file was altered');
  }
  if (data?.v !== 1) throw new BackupError('not-a-backup', 'a backup of another version');
  if (data.user !== user) throw new BackupError('other-user', 'this backup is of another account');
  let rooms = 0;
  let messages = 0;
  for (const [slug, list] of Object.entries(data.rooms ?? {})) {
    if (!Array.isArray(list)) continue;
    const key = `room:${slug}`;
    /** @type {RoomRecord} */
    const record = (await store.get(key)) ?? { saved: null, position: 0, messages: [] };
    const added = merge(record, list).length;
    if (!added) continue;
    await store.put(key, record);
    rooms += 1;
    messages += added;
  }
  return { rooms, messages };
}
