// The signed-in member's start page: "New meeting" (a room of their own, opened at once), and the
// conversation list: the rooms and direct conversations they belong to, newest activity first,
// with their own unread counts, a search over the names, "New room" and "New direct message";
// and joining by a link or room name.

import { detectLanguage, errorText, language, setLanguage, t, translate } from './i18n.js';
import { api, pageState, signOut, signInErrorText } from './session.js';
import { byId, copyText, el } from './dom.js';
import { chatDevice } from './chat/page.js';
import { ifDeviceFree } from './chat/tab-lock.js';
import { installBackup } from './chat/backup-view.js';

/** @typedef {import('./session.js').Session} Session */
/** @typedef {{slug: string, name: string, url: string, role: string, kind: string,
 *   lobby: boolean, has_password: boolean, guests_allowed: boolean}} RoomItem */
/** @typedef {{slug: string, name: string, kind: string, role: string, partner: string | null,
 *   url: string, last_at: number, unread: number}} ConversationItem */

/** The caller's role in a room, as the list says it. @param {string} role @returns {string} */
function roleName(role) {
  if (role === 'owner') return t('role.owner');
  if (role === 'co_owner') return t('role.co_owner');
  if (role === 'moderator') return t('role.moderator');
  return t('role.member');
}

/** A link name nobody guesses: three groups of lowercase letters ("kqvt-mrzo-hwpa"). */
export function randomSlug() {
  const letters = 'abcdefghijkmnopqrstuvwxyz';
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const chars = Array.from(bytes, (b) => letters[b % letters.length]);
  return [0, 4, 8].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

class Home {
  /** @param {Session} session */
  constructor(session) {
    this.session = session;
    this.status = byId('home-status');
    this.error = byId('home-error');
    this.list = byId('rooms-list');
    this.newButton = /** @type {HTMLButtonElement} */ (byId('new-meeting-button'));
    byId('signed-in-as').textContent = t('signin.signedInAs', { name: session.user.display_name });
    /** @type {HTMLInputElement} */ (byId('join-lang')).value = language();
    byId('signout-button').addEventListener('click', () => this.signOut());
    this.newButton.addEventListener('click', () => this.newMeeting());
    this.search = /** @type {HTMLInputElement} */ (byId('room-search'));
    this.search.addEventListener('input', () => this.filter());
    byId('new-room-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.newRoom();
    });
    byId('new-direct-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.newDirect();
    });
  }

  async newRoom() {
    const input = /** @type {HTMLInputElement} */ (byId('new-room-name'));
    const name = input.value.trim();
    if (!name) return;
    this.error.textContent = '';
    const made = await api(this.session, '/api/rooms', 'POST', { name });
    if (made.ok) location.assign(this.here(made.body.url));
    else this.error.textContent = errorText(made.code ?? 'unknown');
  }

  async newDirect() {
    const input = /** @type {HTMLInputElement} */ (byId('direct-user'));
    const user = input.value.trim().toLowerCase();
    if (!user) return;
    this.error.textContent = '';
    const made = await api(this.session, `/api/direct/${encodeURIComponent(user)}`, 'POST');
    if (made.ok) location.assign(this.here(`/r/${made.body.slug}`));
    else this.error.textContent = errorText(made.code ?? 'unknown');
  }

  /** Shows only the rooms whose name holds what the search box says. */
  filter() {
    const wanted = this.search.value.trim().toLocaleLowerCase();
    let shown = 0;
    for (const item of Array.from(this.list.children)) {
      const name = /** @type {HTMLElement} */ (item).dataset.name ?? '';
      const match = !wanted || name.toLocaleLowerCase().includes(wanted);
      /** @type {HTMLElement} */ (item).hidden = !match;
      if (match) shown += 1;
    }
    byId('rooms-none-found').hidden = shown > 0 || this.list.children.length === 0;
  }

  /** @param {string} path */
  here(path) {
    return `${path}${path.includes('?') ? '&' : '?'}lang=${language()}`;
  }

  async newMeeting() {
    this.newButton.disabled = true;
    this.error.textContent = '';
    const name = t('home.roomName', { name: this.session.user.display_name });
    for (let attempt = 0; attempt < 3; attempt++) {
      const made = await api(this.session, '/api/rooms', 'POST', { name, slug: randomSlug() });
      if (made.ok) {
        location.assign(this.here(made.body.url));
        return;
      }
      if (made.code !== 'conflict') {
        this.error.textContent = errorText(made.code ?? 'unknown');
        break;
      }
    }
    this.newButton.disabled = false;
  }

  async loadRooms() {
    const [answer, chats] = await Promise.all([
      api(this.session, '/api/rooms'), api(this.session, '/api/chat/conversations'),
    ]);
    if (!answer.ok) {
      this.error.textContent = errorText(answer.code ?? 'unknown');
      return;
    }
    /** @type {RoomItem[]} */
    const rooms = Array.isArray(answer.body?.rooms) ? answer.body.rooms : [];
    /** @type {ConversationItem[]} */
    const conversations = chats.ok && Array.isArray(chats.body) ? chats.body : [];
    const order = new Map(conversations.map((c, i) => [c.slug, i]));
    const bySlug = new Map(conversations.map((c) => [c.slug, c]));
    rooms.sort((a, b) => (order.get(a.slug) ?? Infinity) - (order.get(b.slug) ?? Infinity));
    this.list.replaceChildren(...rooms.map((room) => this.roomItem(room, bySlug.get(room.slug))));
    byId('rooms-empty').hidden = rooms.length > 0;
    const unread = conversations.reduce((sum, c) => sum + c.unread, 0);
    const title = `${t('home.heading')} – ${pageState().brand.name}`;
    document.title = unread ? t('page.unread', { count: unread, title }) : title;
    this.filter();
  }

  /** @param {RoomItem} room @param {ConversationItem | undefined} chat @returns {HTMLLIElement} */
  roomItem(room, chat) {
    const link = new URL(room.url, location.origin).href;
    const item = el('li', { class: 'room-item' });
    const name = chat?.name ?? room.name;
    item.dataset.name = name;
    const title = el('h3', { class: 'room-title' });
    title.append(el('a', { class: 'room-open', href: this.here(room.url) }, name));
    if (chat?.unread) title.append(' ', el('span', { class: 'unread' }, t('home.unread', { count: chat.unread })));
    const facts = [
      room.kind === 'direct' ? t('home.direct') : roleName(room.role),
      room.lobby ? t('home.withLobby') : '',
      room.has_password ? t('home.withPassword') : '',
      room.guests_allowed ? '' : t('home.membersOnly'),
    ].filter(Boolean);
    const url = el('p', { class: 'room-link' }, link);
    const actions = el('div', { class: 'room-actions' });
    const copy = el('button', { type: 'button' }, t('home.copyLink'));
    copy.addEventListener('click', async () => {
      this.status.textContent = '';
      this.status.textContent = (await copyText(link)) ? t('home.copied') : t('home.copyFailed');
    });
    const enter = el('a', { class: 'button-link primary-link', href: this.here(room.url) }, t('home.enter'));
    const controls = [enter, copy];
    // Only the room's owners may change it; a moderator or member would be refused.
    if (room.role === 'owner' || room.role === 'co_owner') {
      const settings = el('button', { type: 'button' }, t('home.settings'));
      settings.addEventListener('click', () => location.assign(this.here(`${room.url}/settings`)));
      controls.push(settings);
    }
    actions.append(...controls);
    item.append(title, el('p', { class: 'note' }, facts.join(' · ')), url, actions);
    // Each button says which room it is for, to a screen reader listing buttons.
    const nameId = `room-${room.slug}`;
    title.id = nameId;
    for (const control of controls) control.setAttribute('aria-describedby', nameId);
    return item;
  }

  async signOut() {
    const error = await signOut(this.session);
    if (error) this.error.textContent = signInErrorText(error);
    else location.assign(`/?lang=${language()}`);
  }
}

/** "Show others how far I have read": the member's own choice, off unless switched on.
 * @param {Session} session */
async function installShareRead(session) {
  const box = /** @type {HTMLInputElement} */ (byId('share-read'));
  const status = byId('share-read-status');
  const now = await api(session, '/api/chat/preferences');
  if (!now.ok) return;
  box.checked = now.body.share_read_receipts === true;
  byId('typing-note').textContent = t(now.body.typing_indicators ? 'home.typingOn' : 'home.typingOff');
  box.disabled = false;
  const help = byId('share-read-help');
  const explain = () => { help.textContent = t(box.checked ? 'home.shareReadOn' : 'home.shareReadHelp'); };
  explain();
  box.addEventListener('change', async () => {
    box.disabled = true; // one choice at a time, saved in order
    const answer = await api(session, '/api/chat/preferences', 'PATCH', { share_read_receipts: box.checked });
    if (!answer.ok) box.checked = !box.checked;
    box.disabled = false;
    explain();
    status.textContent = answer.ok ? t('home.saved') : errorText(answer.code ?? 'unknown');
  });
}

setLanguage(detectLanguage(location.search, navigator.languages ?? [navigator.language]));
translate(document);
const state = pageState();
document.title = `${t('home.heading')} – ${state.brand.name}`;
if (state.session) {
  new Home(state.session).loadRooms();
  installShareRead(state.session);
  // This browser's chat device, ready before any room is opened: members' devices can add it
  // to their rooms' groups from now on, so it reads what is written from here on.
  // (Unless another tab of this browser holds the device: that one does it.)
  const prepared = ifDeviceFree(() => chatDevice(/** @type {Session} */ (state.session)));
  prepared.catch((error) => console.warn('rathaus: chat unavailable:', error));
  installBackup(state.session.user.username, prepared);
}
