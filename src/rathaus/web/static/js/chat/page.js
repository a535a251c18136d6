// The room's chat on the room page, for its members: this browser's device (the same as for
// meetings) registered in the key directory, the chat client, and the view. Guests and people
// who are no members of the room see no chat (the server would refuse them anyway).

import { errorText, t } from '../i18n.js';
import { ConfirmDialog } from '../dialog.js';
import { api, pageState } from '../session.js';
import { defaultDeviceStore, loadOrCreateDevice } from '../e2ee/device.js';
import { b64urlEncode } from '../e2ee/encoding.js';
import { ChatClient } from './client.js';
import { deleteBlob, fetchFile, sendFile } from './attachments.js';
import { makeThumbnail } from './attachment-view.js';
import { defaultGroupStore } from './group-store.js';
import * as mlsModule from './mls.js';
import { topUp } from './key-packages.js';
import { ChatView } from './view.js';
import { whenDeviceFree } from './tab-lock.js';
import { SignalsView } from './signals-view.js';
import { shareHistory, sharedText, takeHistory } from './history-share.js';

/** @typedef {import('../session.js').Session} Session */

/** A desktop notification while the page is hidden, only if the member allowed them (the
 * browser asks once, on the member's own click: see installChatToggle). @param {number} count */
function notify(count) {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (document.visibilityState === 'visible') return;
  new Notification(t('chat.notification', { count }), { tag: 'rathaus-chat', silent: false });
}

/** @param {string} path */
function socketUrl(path) {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}${path}`;
}

/** @typedef {{user: string, display_name: string, ed25519: string}} DirectoryEntry */

/** @type {Map<string, Promise<DirectoryEntry | null>>} the key directory's answers, per page */
const known = new Map();

/** Whose device `identity` is, as the key directory says. @param {Session} session @param {string} identity */
function lookUp(session, identity) {
  if (!known.has(identity)) {
    known.set(identity, api(session, `/api/chat/devices/${encodeURIComponent(identity)}`)
      .then((answer) => (answer.ok ? answer.body : null)));
  }
  return /** @type {Promise<DirectoryEntry | null>} */ (known.get(identity));
}

/**
 * The key directory's answer: does device `identity` own Ed25519 key `key`?
 * @param {Session} session
 * @returns {import('./mls.js').Authenticate}
 */
function directory(session) {
  return async (identity, key) => {
    const found = await lookUp(session, identity);
    return found !== null && found.ed25519 === b64urlEncode(key);
  };
}

/**
 * This browser's device for the chat (the meetings' device): registered in the key directory,
 * with its key packages topped up so that members' devices can add it to their rooms' groups
 * while it is away. Throws where WebCrypto or IndexedDB cannot do it.
 * @param {Session} session
 */
export async function chatDevice(session) {
  const device = await loadOrCreateDevice(defaultDeviceStore());
  const registered = await api(session, '/api/chat/devices', 'POST', {
    id: device.id, ed25519: device.publicInfo.ed25519, x25519: device.publicInfo.x25519,
  });
  if (!registered.ok) throw new Error(registered.code ?? 'unknown');
  const mls = await mlsModule.mlsDevice(device, { authenticate: directory(session) });
  const store = defaultGroupStore();
  const publishKeyPackages = async (/** @type {string[]} */ packages) =>
    (await api(session, '/api/chat/key-packages', 'POST', { device: device.id, key_packages: packages })).ok;
  await topUp(store, mls, Number(registered.body?.waiting) || 0, publishKeyPackages);
  return { device, mls, store, publishKeyPackages };
}

/**
 * Starts the chat of room `slug` in `panel` when the signed-in person is one of its members.
 * @param {string} slug
 * @param {HTMLElement} panel
 * @returns {Promise<boolean>} whether the chat is shown (it connects once this tab holds the device)
 */
export async function startChat(slug, panel) {
  const session = pageState().session;
  if (!session) return false;
  const members = await api(session, `/api/chat/rooms/${encodeURIComponent(slug)}/members`);
  if (!members.ok) return false;
  /** @type {{user: string, display_name: string, role: string}[]} */
  const people = members.body;
  const names = new Map(people.map((m) => [m.user, m.display_name]));
  const roles = new Map(people.map((m) => [m.user, m.role]));
  const myRole = people.find((m) => m.user === session.user.username)?.role;
  const limits = await api(session, '/api/chat/attachments/limits');
  const maxBytes = limits.ok && Number.isSafeInteger(limits.body?.max_bytes) ? Number(limits.body.max_bytes) : undefined;
  panel.hidden = false;
  document.body.classList.add('with-chat');
  /** @type {ChatClient} */
  let client;
  const confirm = new ConfirmDialog();
  /** @returns {import('./thread.js').ThreadMessage[]} */
  const held = () => client?.rooms.get(slug)?.record.messages ?? [];
  const view = new ChatView(panel, {
    send: (text, reply) => client.send(slug, { t: 'text', body: text }, reply === null ? undefined : { rel: 'reply', ref: reply }),
    edit: (seq, text) => client.send(slug, { t: 'text', body: text }, { rel: 'edit', ref: seq }),
    react: (seq, reaction, on) => client.send(slug, { t: 'react', reaction, on }, { rel: 'react', ref: seq }),
    remove: async (message) => {
      const answer = await confirm.ask({ title: t('chat.deleteTitle'), text: t('chat.deleteText'), confirm: t('chat.deleteConfirm') });
      if (!answer) return;
      const blob = message.file?.blob; // the deletion's event takes the file off the message
      try {
        await client.delete(slug, message.seq);
        // The server cannot tell which blob a message names: who deletes the message, its
        // author or a moderator, deletes its attachment too.
        if (blob) await deleteBlob(session, slug, blob).catch((error) => console.warn('rathaus: attachment:', error));
      } catch (error) {
        view.setStatus(errorText(/** @type {{code?: string}} */ (error).code ?? 'unknown'));
      }
    },
    nameOf: (user) => (user === null ? '?' : names.get(user) ?? user),
    isMember: (user) => names.has(user),
    me: () => session.user.username,
    moderates: () => myRole === 'owner' || myRole === 'co_owner' || myRole === 'moderator',
    vouches: (user) => ['owner', 'co_owner'].includes(roles.get(user ?? '') ?? ''), // a shared history
    messages: held,
    maxBytes: () => maxBytes,
    attach: async (file, progress) => {
      const thumbnail = await makeThumbnail(file);
      const content = await sendFile(session, slug, file, { maxBytes, thumbnail, progress });
      progress('sending', 0, 0);
      try {
        await client.send(slug, content);
      } catch (error) {
        await deleteBlob(session, slug, content.file.blob).catch(() => {}); // named by no message
        throw error;
      }
    },
    fetchFile: (info, progress) => fetchFile(slug, info, progress),
    typing: () => client?.typing(slug),
  });
  const signals = new SignalsView(panel, { nameOf: (user) => names.get(user) ?? user });
  /** Who is a member now (for names, mentions and signals): after the group changed. */
  const refreshMembers = async () => {
    const now = await api(session, `/api/chat/rooms/${encodeURIComponent(slug)}/members`);
    if (!now.ok) return;
    names.clear();
    roles.clear();
    for (const m of /** @type {{user: string, display_name: string, role: string}[]} */ (now.body)) {
      names.set(m.user, m.display_name);
      roles.set(m.user, m.role);
    }
  };
  // One tab of this browser at a time holds the chat device (./tab-lock.js).
  const run = async () => {
    view.setStatus(t('chat.connecting'));
    try {
      const prepared = await chatDevice(session);
      client = new ChatClient({ url: socketUrl('/ws/chat'), ...prepared });
    } catch (error) {
      console.warn('rathaus: chat unavailable:', error);
      view.setStatus(t('chat.unavailable'));
      return;
    }
    // Read is what was on screen: the panel open and the page visible. Otherwise the title counts.
    let unseen = 0;
    const baseTitle = document.title;
    const seen = () => {
      const visible = document.visibilityState === 'visible' && !document.body.classList.contains('chat-closed');
      if (!visible) return;
      unseen = 0;
      document.title = baseTitle;
      client.markRead(slug);
    };
    document.addEventListener('visibilitychange', seen);
    new MutationObserver(seen).observe(document.body, { attributes: true, attributeFilter: ['class'] });
    client.addEventListener('messages', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      if (detail.room !== slug) return;
      view.add(detail.messages);
      for (const message of detail.messages) {
        if (message.user) signals.stoppedTyping(message.user);
        // An owner shared the history: a device that joined later takes what it lacks.
        const fromOwner = ['owner', 'co_owner'].includes(roles.get(message.user ?? '') ?? '');
        if (message.history !== undefined && fromOwner && !message.sharedBy && client.rooms.get(slug)?.record.earlier) {
          takeHistory(client, slug, message).catch((error) => console.warn('rathaus: shared history:', error));
        }
      }
      signals.render();
      const others = detail.messages.filter((/** @type {import('./thread.js').ThreadMessage} */ m) => m.user !== session.user.username && !m.sharedBy).length;
      if (document.visibilityState === 'visible' && !document.body.classList.contains('chat-closed')) seen();
      else if (others) {
        unseen += others;
        document.title = t('page.unread', { count: unseen, title: baseTitle });
        notify(others);
      }
    });
    client.addEventListener('changed', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      if (detail.room !== slug) return;
      view.change(detail.messages);
      signals.render();
    });
    client.addEventListener('read-by', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      if (detail.room === slug) signals.setReadBy(detail.readers.filter((/** @type {{user: string}} */ r) => r.user !== session.user.username));
    });
    client.addEventListener('signal', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      if (detail.room !== slug || !names.has(detail.user)) return;
      if (detail.signal === 'typing') signals.typingNow(detail.user);
      else if (detail.signal === 'read' && detail.user !== session.user.username) signals.read(detail.user, Number(detail.seq));
    });
    // "Connecting" until this device is in the room's group: what is written then reaches it.
    client.addEventListener('ready', (e) => {
      if (/** @type {CustomEvent} */ (e).detail.room === slug) view.setStatus('');
    });
    client.addEventListener('connection', (e) => {
      if (!/** @type {CustomEvent} */ (e).detail.connected) view.setStatus(t('chat.offline'));
    });
    client.addEventListener('roster', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      if (detail.room !== slug) return;
      view.setDevices(detail.devices);
      const group = client.rooms.get(slug)?.group;
      if (group) showGroup(session, group, (user) => names.get(user) ?? user);
      refreshMembers(); // the group changed: maybe its people did too
    });
    client.addEventListener('problem', (e) => console.warn('rathaus: chat:', /** @type {CustomEvent} */ (e).detail.error));
    client.addEventListener('read-marker', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      if (detail.room === slug) view.setReadMarker(detail.seq);
    });
    client.addEventListener('joined', (e) => {
      const detail = /** @type {CustomEvent} */ (e).detail;
      if (detail.room === slug) view.setEarlier(detail.earlier);
    });
    installNotifyButton();
    if (myRole === 'owner' || myRole === 'co_owner') installShareHistory(session, client, slug, maxBytes, confirm);
    showMeetingNow(session, slug);
    view.add(await client.open(slug));
    view.setEarlier(client.rooms.get(slug)?.record.earlier === true);
    client.connect();
  };
  const composer = /** @type {HTMLElement} */ (panel.querySelector('#composer'));
  view.setStatus(t('chat.connecting'));
  const waiting = () => {
    composer.hidden = true;
    /** @type {HTMLElement} */ (panel.querySelector('#chat-empty')).hidden = true; // not "write the first"
    view.setStatus(t('chat.otherTab'));
  };
  whenDeviceFree(waiting, () => {
    composer.hidden = false;
    return run();
  }).catch((error) => console.warn('rathaus: chat:', error));
  return true;
}

/**
 * The meeting's "Chat" button and the panel's close button: in a meeting the chat starts closed
 * (the videos take the room) and opens beside them; before and after it, it is always shown.
 */
export function installChatToggle() {
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('chat-button'));
  const close = /** @type {HTMLButtonElement} */ (document.getElementById('chat-close'));
  const input = /** @type {HTMLElement} */ (document.getElementById('message-input'));
  let wasMeeting = false;
  /** @param {boolean} open */
  const set = (open) => {
    document.body.classList.toggle('chat-closed', !open);
    button.setAttribute('aria-expanded', String(open));
  };
  const screenChanged = () => {
    const meeting = document.body.dataset.screen === 'meeting';
    button.hidden = !meeting;
    close.hidden = !meeting;
    if (meeting && !wasMeeting) set(false);
    if (!meeting) set(true);
    wasMeeting = meeting;
  };
  button.addEventListener('click', () => {
    const open = document.body.classList.contains('chat-closed');
    set(open);
    if (open) input.focus();
  });
  close.addEventListener('click', () => {
    set(false);
    button.focus();
  });
  new MutationObserver(screenChanged).observe(document.body, { attributes: true, attributeFilter: ['data-screen'] });
  screenChanged();
}

/**
 * "Share the history with the members", for the room's owners (./history-share.js).
 * @param {Session} session @param {ChatClient} client @param {string} slug
 * @param {number | undefined} maxBytes @param {ConfirmDialog} confirm
 */
function installShareHistory(session, client, slug, maxBytes, confirm) {
  const button = /** @type {HTMLButtonElement} */ (document.getElementById('chat-share-history'));
  const status = /** @type {HTMLElement} */ (document.getElementById('chat-share-status'));
  button.hidden = false;
  button.addEventListener('click', async () => {
    if (button.getAttribute('aria-disabled') === 'true') return;
    const answer = await confirm.ask({ title: t('chat.shareTitle'), text: t('chat.shareText'), confirm: t('chat.shareConfirm') });
    if (!answer) return;
    button.setAttribute('aria-disabled', 'true'); // still focusable: the focus stays here
    status.textContent = t('chat.shareSending');
    try {
      status.textContent = sharedText(await shareHistory(session, client, slug, maxBytes));
    } catch (error) {
      status.textContent = errorText(/** @type {{code?: string}} */ (error).code ?? 'unknown');
    } finally {
      button.removeAttribute('aria-disabled');
    }
  });
}

/** "Desktop notifications": the browser asks for permission only when the member clicks. */
function installNotifyButton() {
  const button = /** @type {HTMLButtonElement | null} */ (document.getElementById('chat-notify'));
  if (!button || typeof Notification === 'undefined') return;
  const show = () => button.setAttribute('aria-pressed', String(Notification.permission === 'granted'));
  button.hidden = false;
  show();
  button.addEventListener('click', async () => {
    if (Notification.permission === 'default') await Notification.requestPermission();
    show();
  });
}

const MEETING_EVERY = 15000; // ms between looks at how many are in the room's meeting

/** "3 people are in the meeting" beside the chat, before one joins it. @param {Session} session @param {string} slug */
function showMeetingNow(session, slug) {
  const line = /** @type {HTMLElement} */ (document.getElementById('chat-meeting'));
  const look = async () => {
    if (document.body.dataset.screen === 'meeting') {
      line.hidden = true;
      return;
    }
    const answer = await api(session, `/api/chat/rooms/${encodeURIComponent(slug)}/meeting`);
    if (!answer.ok) return;
    const count = Number(answer.body?.participants) || 0;
    line.textContent = count ? t('chat.inMeeting', { count }) : t('chat.meetingEmpty');
    line.hidden = false;
  };
  look();
  setInterval(look, MEETING_EVERY);
}

/**
 * Who can read along, device by device (the key directory's owner and a short fingerprint of the
 * device's signing key), and the group's safety code: the MLS exporter of the current epoch, the
 * same on every member's screen only if all of them share the same group (docs/e2ee.md).
 * @param {Session} session
 * @param {import('./mls.js').Group} group
 * @param {(user: string) => string} nameOf
 */
async function showGroup(session, group, nameOf) {
  const list = document.getElementById('chat-device-list');
  const code = document.getElementById('chat-safety-code');
  if (!list || !code) return;
  const rows = await Promise.all(group.members().map(async (member) => {
    const entry = await lookUp(session, member.identity);
    const key = entry ? await fingerprint(entry.ed25519) : '?';
    return { name: entry ? nameOf(entry.user) : t('chat.unknownDevice'), key };
  }));
  rows.sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
  list.replaceChildren(...rows.map((row) => {
    const item = document.createElement('li');
    item.textContent = t('chat.deviceOf', { name: row.name, key: row.key });
    return item;
  }));
  const bytes = await mlsModule.exporter(group, 'Rathaus chat safety code v1', 25);
  code.textContent = Array.from({ length: 5 }, (_, i) => {
    const value = bytes.slice(i * 5, i * 5 + 5).reduce((n, b) => n * 256 + b, 0);
    return String(value % 100000).padStart(5, '0');
  }).join(' ');
}

/** The first 8 bytes of SHA-256 of a device's signing key, as hex in pairs. @param {string} key */
async function fingerprint(key) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(key)));
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}
