// A room's conversation as this device holds it: messages with their edits, reactions, replies
// and deletions applied. Pure data, no DOM, no MLS: the chat client feeds it what it decrypted,
// in the server's order (a relation always comes after what it relates to).

import {parseFile} from './attachments.js';

/** The reactions a message may get, by name (what travels, inside the encryption). */
export const REACTIONS = Object.freeze({
  thumbs_up: '👍',
  heart: '❤️',
  laugh: '😂',
  surprise: '😮',
  party: '🎉',
  applause: '👏',
});
/** @typedef {keyof typeof REACTIONS} ReactionName */

/** Longest text of one message (characters), as the composer allows. */
export const MAX_TEXT = 10000;

/**
 * One message on screen. `body` null: not readable on this device (`problem` says why) or
 * deleted. `reactions`: reaction name -> user names, in the order they reacted. `file`: the
 * attachment the message names (its blob, key and name; js/chat/attachments.js), or null.
 * `history`: the message shares the room's history (its file holds that many messages);
 * `sharedBy`: this device has the message from a history that member shared, not from MLS.
 * @typedef {{seq: number, user: string | null, device: string, at: number, body: string | null,
 *   problem: null | 'before-join' | 'undecryptable' | 'deleted', reply: number | null, edited: boolean,
 *   deleted: boolean, reactions: Record<string, string[]>,
 *   file: import('./attachments.js').FileInfo | null, history?: number, sharedBy?: string}} ThreadMessage
 */

/**
 * What the client learnt from one event: `content` is the decrypted JSON (null if unreadable).
 * @typedef {{seq: number, kind: 'message' | 'delete', user: string | null, device: string,
 *   at: number, rel: 'reply' | 'edit' | 'react' | null, ref: number | null,
 *   content: Record<string, unknown> | null, problem: ThreadMessage['problem']}} ThreadItem
 */

/** @param {unknown} value @returns {string | null} */
function text(value) {
  return typeof value === 'string' && value.length <= MAX_TEXT ? value : null;
}

/**
 * Applies one item; says which message is new or changed (null: nothing to show).
 * @param {ThreadMessage[]} messages in order; changed in place
 * @param {ThreadItem} item
 * @returns {{added: ThreadMessage | null, changed: ThreadMessage | null}}
 */
export function apply(messages, item) {
  const none = {added: null, changed: null};
  if (messages.some((m) => m.seq === item.seq)) return none; // applied already
  const target = item.ref === null ? undefined : find(messages, item.ref);
  if (item.kind === 'delete') {
    if (!target) return none;
    Object.assign(target, {body: null, deleted: true, edited: false, reactions: {}, file: null});
    return {added: null, changed: target};
  }
  if (item.rel === 'edit' || item.rel === 'react') {
    // An edit or reaction this device cannot read, or to a message it does not hold: nothing.
    if (!target || target.deleted || !item.content || item.user === null) return none;
    if (item.rel === 'edit') {
      const body = text(item.content.body);
      if (body === null || target.user !== item.user) return none; // only the author edits
      Object.assign(target, {body, edited: true});
      return {added: null, changed: target};
    }
    const name = item.content.reaction;
    if (typeof name !== 'string' || !Object.hasOwn(REACTIONS, name)) return none;
    const users = (target.reactions[name] ?? []).filter((u) => u !== item.user);
    if (item.content.on !== false) users.push(item.user);
    if (users.length) target.reactions[name] = users;
    else delete target.reactions[name];
    return {added: null, changed: target};
  }
  const body = item.content ? text(item.content.body) : null;
  /** @type {ThreadMessage} */
  const message = {
    seq: item.seq, user: item.user, device: item.device, at: item.at, body,
    problem: item.content && body !== null ? null : (item.problem ?? 'undecryptable'),
    reply: item.rel === 'reply' ? item.ref : null, edited: false, deleted: false, reactions: {},
    file: body !== null && item.content ? parseFile(item.content.file) : null,
  };
  if (item.problem === 'deleted') Object.assign(message, {problem: null, deleted: true});
  const count = item.content?.t === 'history' ? item.content.count : undefined;
  if (message.file && typeof count === 'number' && Number.isSafeInteger(count) && count >= 0) message.history = count;
  insert(messages, message);
  return {added: message, changed: null};
}

/**
 * A message as this device can show it, rebuilt field by field from what a file or another device
 * says (a backup, a shared history: JSON nobody checked); null if it is not a readable message.
 * @param {unknown} value
 * @returns {ThreadMessage | null}
 */
export function restore(value) {
  if (typeof value !== 'object' || value === null) return null;
  const v = /** @type {Record<string, any>} */ (value);
  const body = text(v.body);
  const file = v.file === null || v.file === undefined ? null : parseFile(v.file);
  if (!Number.isSafeInteger(v.seq) || v.seq < 1 || body === null || v.deleted === true) return null;
  if (!(v.user === null || (typeof v.user === 'string' && v.user.length <= 64))) return null;
  if (typeof v.device !== 'string' || v.device.length > 64 || !Number.isFinite(v.at)) return null;
  if (v.file !== null && v.file !== undefined && file === null) return null;
  /** @type {Record<string, string[]>} */
  const reactions = {};
  for (const name of Object.keys(REACTIONS)) {
    const users = v.reactions && typeof v.reactions === 'object' && Object.hasOwn(v.reactions, name) ? v.reactions[name] : undefined;
    const kept = Array.isArray(users) ? users.filter((u) => typeof u === 'string' && u.length <= 64).slice(0, 500) : [];
    if (kept.length) reactions[name] = kept;
  }
  return {
    seq: v.seq, user: v.user, device: v.device, at: v.at, body, problem: null,
    reply: Number.isSafeInteger(v.reply) && v.reply > 0 ? v.reply : null, edited: v.edited === true,
    deleted: false, reactions, file,
  };
}

/** @param {ThreadMessage[]} messages @param {number} seq */
export function find(messages, seq) {
  let low = 0;
  let high = messages.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const at = messages[middle].seq;
    if (at === seq) return messages[middle];
    if (at < seq) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

/** @param {ThreadMessage[]} messages @param {ThreadMessage} message */
function insert(messages, message) {
  let at = messages.length;
  while (at > 0 && messages[at - 1].seq > message.seq) at -= 1;
  messages.splice(at, 0, message);
}

/** A short plain excerpt of a message, for a reply's quote. @param {ThreadMessage} message */
export function excerpt(message, length = 80) {
  const body = (message.body ?? '').replace(/\s+/g, ' ').trim();
  return body.length > length ? `${body.slice(0, length - 1)}…` : body;
}
