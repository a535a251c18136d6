// Names the chat client makes: a room's MLS group id, and the client ids of its writes.

import {b64urlEncode, randomBytes} from '../e2ee/encoding.js';

const encoder = new TextEncoder();

/** A room's group id begins with the room's link name, so that no other room's group passes
 * for it. @param {string} slug */
export function groupPrefix(slug) {
  return encoder.encode(`rathaus-room:${slug}:`);
}

/** @param {Uint8Array} bytes @param {Uint8Array} prefix */
export function startsWith(bytes, prefix) {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** A write's client id: the server stores a resend with the same id only once. */
export function clientId() {
  return b64urlEncode(randomBytes(12));
}
