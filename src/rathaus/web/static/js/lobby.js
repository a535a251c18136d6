// The lobby: the waiting screen of someone knocking, and the moderators' "Waiting room" at the
// top of the participants panel (people.js).
// Names from the server are only ever set through textContent and attributes.

import { t } from './i18n.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').LobbyStatus} LobbyStatus */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** The waiting screen: own camera preview (local only), the message, and "Leave". */
export class LobbyView {
  constructor() {
    this.root = byId('lobby');
    this.heading = byId('lobby-heading');
    this.video = /** @type {HTMLVideoElement} */ (byId('lobby-video'));
    this.previewOff = byId('lobby-preview-off');
    this.message = byId('lobby-message');
    this.leaveButton = /** @type {HTMLButtonElement} */ (byId('lobby-leave-button'));
    /** @type {LobbyStatus | null} */
    this.status = null;
  }

  /** @param {() => void} handler */
  onLeave(handler) {
    this.leaveButton.addEventListener('click', handler);
  }

  /** @param {MediaStream | null} stream the local preview (never sent while waiting) */
  show(stream) {
    const hasVideo = !!stream?.getVideoTracks().some((track) => track.readyState === 'live');
    this.video.srcObject = hasVideo ? stream : null;
    this.video.hidden = !hasVideo;
    this.previewOff.hidden = hasVideo;
    this.heading.focus();
  }

  /** @param {LobbyStatus} status */
  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.message.textContent = t(status === 'no_moderator' ? 'lobby.noModerator' : 'lobby.waiting');
  }

  hide() {
    this.video.srcObject = null;
    this.status = null;
    this.message.textContent = '';
  }
}

/** The moderators' list of people knocking, each with "Admit" and "Deny", plus "Admit all". */
export class LobbyPanel {
  constructor() {
    this.root = byId('lobby-panel');
    this.list = byId('lobby-list');
    this.admitAllButton = /** @type {HTMLButtonElement} */ (byId('admit-all-button'));
    /** @type {Map<string, {participant: Participant, row: HTMLLIElement}>} */
    this.rows = new Map();
    this.enabled = false;
    /** @type {(action: 'admit' | 'deny', id: string) => void} */
    this.onDecide = () => {};
    /** @type {() => void} */
    this.onAdmitAll = () => {};
    /** Where focus goes when the panel empties while it had focus. @type {() => void} */
    this.onEmptied = () => {};
    /** Who waits, as moderators see it (none for the others). @type {(names: string[]) => void} */
    this.onWaiting = () => {};
    this.admitAllButton.addEventListener('click', () => this.onAdmitAll());
  }

  /** @param {boolean} enabled whether this participant moderates */
  setEnabled(enabled) {
    this.enabled = enabled;
    this.update();
  }

  /** @param {Participant[]} waiting */
  replace(waiting) {
    const hadFocus = this.root.contains(document.activeElement);
    for (const { row } of this.rows.values()) row.remove();
    this.rows.clear();
    for (const p of waiting) this.add(p);
    this.update(hadFocus);
  }

  /** @param {Participant} p */
  add(p) {
    const existing = this.rows.get(p.id);
    if (existing) {
      existing.participant = p;
      existing.row.querySelector('[role="group"]')?.setAttribute('aria-label', p.name);
      const nameEl = existing.row.querySelector('.lobby-name');
      if (nameEl) nameEl.textContent = p.name;
      this.update();
      return;
    }
    const row = document.createElement('li');
    row.className = 'lobby-row';
    row.dataset.participantId = p.id;
    const group = document.createElement('div');
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', p.name);
    group.className = 'lobby-entry';
    const name = document.createElement('span');
    name.className = 'lobby-name';
    name.textContent = p.name;
    const admit = document.createElement('button');
    admit.type = 'button';
    admit.className = 'primary';
    admit.textContent = t('mod.admit');
    admit.addEventListener('click', () => this.onDecide('admit', p.id));
    const deny = document.createElement('button');
    deny.type = 'button';
    deny.textContent = t('mod.deny');
    deny.addEventListener('click', () => this.onDecide('deny', p.id));
    group.append(name, admit, deny);
    row.append(group);
    this.list.append(row);
    this.rows.set(p.id, { participant: p, row });
    this.update();
  }

  /** @param {string} id */
  remove(id) {
    const entry = this.rows.get(id);
    if (!entry) return;
    const hadFocus = entry.row.contains(document.activeElement);
    const next = /** @type {HTMLLIElement | null} */ (entry.row.nextElementSibling ?? entry.row.previousElementSibling);
    entry.row.remove();
    this.rows.delete(id);
    this.update();
    if (!hadFocus) return;
    const target = next?.querySelector('button') ?? (this.root.hidden ? null : this.admitAllButton);
    if (target) target.focus();
    else this.onEmptied();
  }

  /** @param {string} id @returns {string | null} */
  nameOf(id) {
    return this.rows.get(id)?.participant.name ?? null;
  }

  /** @param {boolean} [hadFocus] */
  update(hadFocus = false) {
    const show = this.enabled && this.rows.size > 0;
    this.root.hidden = !show;
    this.admitAllButton.hidden = this.rows.size < 2;
    this.onWaiting(show ? [...this.rows.values()].map(({ participant }) => participant.name) : []);
    if (hadFocus && !show) this.onEmptied();
  }

  clear() {
    this.replace([]);
  }

  snapshot() {
    return [...this.rows.values()].map(({ participant }) => ({ id: participant.id, name: participant.name }));
  }
}
