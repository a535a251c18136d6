// Sharing a room's history with members who joined later (as Matrix's MSC4268 does): an owner's
// device puts the messages it holds into a file, encrypted like any attachment (a key of its own,
// which travels only inside the MLS message that names the file), and sends that message to the
// room. A device that joined later downloads the file and adds the messages, each marked as
// coming from that owner's history (the owner vouches for them; MLS did not carry them).

import { t } from '../i18n.js';
import { fetchFile, sendFile } from './attachments.js';
import { readable } from './backup.js';

/** @typedef {import('./thread.js').ThreadMessage} ThreadMessage */
/** @typedef {import('./client.js').ChatClient} ChatClient */

const MAX_SHARED_BYTES = 20 * 1024 * 1024; // a history file larger than this is neither sent nor taken

/**
 * Sends this device's readable messages of room `slug` as a history message.
 * @param {{csrf_token: string}} session @param {ChatClient} client @param {string} slug
 * @param {number | undefined} maxBytes the server's attachment limit
 * @returns {Promise<number>} how many messages were shared
 */
export async function shareHistory(session, client, slug, maxBytes) {
  const messages = (client.rooms.get(slug)?.record.messages ?? []).filter((m) => readable(m) && m.history === undefined);
  const file = new File([JSON.stringify({ v: 1, messages })], 'history.json', { type: 'application/json' });
  // As large as newcomers take it at most (the newest messages, if it must be cut).
  const limit = Math.min(maxBytes ?? MAX_SHARED_BYTES, MAX_SHARED_BYTES);
  const content = await sendFile(session, slug, file, { maxBytes: limit });
  await client.send(slug, { ...content, t: 'history', body: '', count: messages.length });
  return messages.length;
}

/**
 * Adds the history in `message` (a history message of `sharer`, an owner) to this device's room.
 * @param {ChatClient} client @param {string} slug @param {ThreadMessage} message
 * @returns {Promise<number>} how many messages this device did not have
 */
export async function takeHistory(client, slug, message) {
  if (!message.file || message.user === null || message.file.size > MAX_SHARED_BYTES) return 0;
  const sharer = message.user;
  const blob = await fetchFile(slug, message.file);
  const data = JSON.parse(await blob.text());
  if (!Array.isArray(data?.messages)) return 0;
  // Only what came before the history message; each rebuilt and checked by the merge.
  const list = data.messages.filter((/** @type {any} */ m) => Number.isSafeInteger(m?.seq) && m.seq < message.seq);
  return client.addHistory(slug, list, sharer);
}

/** The status line's text after sharing. @param {number} count */
export function sharedText(count) {
  return t('chat.shareDone', { count });
}
