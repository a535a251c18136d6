// The safety code: a short code derived from the public keys of all participants' devices. Every
// participant sees it; the same code on every screen means every screen has the same keys, so
// nobody (not Rathaus either) has slipped in a key of its own. No DOM and no I/O.
//
// code = SHA-256("Rathaus E2EE v1 safety code" || count (u32) || entries sorted byte-wise)
// with one entry per participant: raw X25519 public key || raw Ed25519 public key (64 bytes).
// Sorting makes it independent of join order and of the order in which a screen lists people;
// duplicates are kept (two participants with the same device still count twice, on every screen).
// The first 25 bytes make 5 groups of 5 digits (5 bytes, as a big-endian integer, modulo 100000,
// like Signal's safety numbers): about 83 bits, far beyond what anyone could search for a matching
// key set during a meeting. Recompute it whenever someone joins or leaves.

import {b64urlDecode, compareBytes, concat, uintBE} from './encoding.js';
import {EnvelopeError} from './envelope.js';

const LABEL = 'Rathaus E2EE v1 safety code';
export const SAFETY_GROUPS = 5;
const GROUP_DIGITS = 5;
const GROUP_BYTES = 5;

/**
 * A participant's device public keys (base64url raw keys, as in the protocol's Device).
 * @typedef {{x25519: string, ed25519: string}} DeviceKeys
 */

/**
 * @typedef {object} SafetyCode
 * @property {string[]} groups five groups of five digits
 * @property {string} display the groups separated by spaces: "12345 67890 …"
 * @property {string} spoken for screen readers (aria-label): digits separated by spaces, groups by
 *   commas, so that each digit is read out on its own: "1 2 3 4 5, 6 7 8 9 0, …"
 */

/**
 * @param {unknown} text
 * @param {string} what
 */
function rawKey(text, what) {
  const bytes = b64urlDecode(text);
  if (!bytes || bytes.length !== 32) throw new EnvelopeError('key', `${what} is not a raw 32-byte public key`);
  return bytes;
}

/**
 * The safety code of a set of participants' devices.
 * @param {Iterable<DeviceKeys>} devices one per participant (with a device), in any order
 * @returns {Promise<SafetyCode>}
 * @throws {EnvelopeError} `key` for a public key that is not a raw 32-byte key
 */
export async function safetyCode(devices) {
  const entries = [];
  for (const device of devices) {
    entries.push(concat(rawKey(device.x25519, 'an X25519 key'), rawKey(device.ed25519, 'an Ed25519 key')));
  }
  entries.sort(compareBytes);
  const digest = new Uint8Array(await crypto.subtle.digest(
    'SHA-256',
    concat(new TextEncoder().encode(LABEL), uintBE(entries.length, 4), ...entries),
  ));
  const groups = [];
  for (let i = 0; i < SAFETY_GROUPS; i++) {
    let value = 0;
    for (let j = 0; j < GROUP_BYTES; j++) value = value * 256 + digest[i * GROUP_BYTES + j];
    groups.push(String(value % 10 ** GROUP_DIGITS).padStart(GROUP_DIGITS, '0'));
  }
  return {
    groups,
    display: groups.join(' '),
    spoken: groups.map((group) => group.split('').join(' ')).join(', '),
  };
}
