// The "Participants" panel: the toolbar's toggle with the count, a side panel (a sheet over the
// lower part on a phone) listing everyone with role, microphone, camera and raised hand, the
// actions on each (pin; a moderator's), and the waiting room at its top (lobby.js fills it).
// While the panel is closed, a moderator sees a notice with a button to open it when someone
// knocks.
// Names from the server are only ever set through textContent and attributes.

import { t } from './i18n.js';
import { ActionMenu } from './menu.js';
import { initials } from './tile.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./tile.js').TileAction} TileAction */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** @param {string} className @param {string} [text] @returns {HTMLSpanElement} */
function span(className, text = '') {
  const el = document.createElement('span');
  el.className = className;
  if (text) el.textContent = text;
  return el;
}

/** An icon with its meaning in words for screen readers. @param {string} className */
function stateIcon(className) {
  const el = span(`state-icon ${className}`);
  el.setAttribute('role', 'img');
  return el;
}

let menuCounter = 0;

/** One participant's line in the list. */
class Person {
  /** @param {string} id @param {boolean} self */
  constructor(id, self) {
    this.id = id;
    this.self = self;
    this.name = '';
    /** the name as shown ("Anna (2)" where two have the same) */
    this.label = '';
    /** the order they came in (for sorting) */
    this.serial = 0;
    /** @type {number | null} */
    this.hand = null;
    this.el = document.createElement('li');
    this.el.className = 'person';
    this.el.dataset.person = id;
    this.avatar = span('avatar');
    this.avatar.setAttribute('aria-hidden', 'true');
    this.nameEl = span('person-name');
    const who = span('person-who');
    who.append(this.nameEl);
    if (self) who.append(span('person-you', ` ${t('tile.you')}`));
    this.role = span('person-role');
    this.plain = span('person-plain', t('tile.plain'));
    this.plain.hidden = true;
    const text = span('person-text');
    text.append(who, this.role, this.plain);
    this.handEl = span('hand');
    this.handEl.setAttribute('role', 'img');
    this.handEl.append(span('icon icon-hand'), span('hand-position'));
    this.handEl.hidden = true;
    this.mic = stateIcon('mic');
    this.camera = stateIcon('camera');
    const states = span('person-state');
    states.append(this.handEl, this.mic, this.camera);
    this.el.append(this.avatar, text, states);
    /** @type {ActionMenu | null} */
    this.menu = null;
  }

  /** @param {Participant} p @param {boolean} plain */
  update(p, plain) {
    this.name = p.name;
    this.setLabel(p.name);
    this.avatar.textContent = initials(p.name);
    const role = p.role === 'moderator' ? 'tile.moderator' : p.role === 'member' ? 'people.member' : 'people.guest';
    this.role.textContent = t(role);
    this.el.dataset.role = p.role;
    this.plain.hidden = !plain;
    const mic = t(p.audio ? 'people.micOn' : 'tile.micOff');
    this.mic.setAttribute('aria-label', mic);
    this.mic.title = mic;
    this.mic.dataset.on = String(p.audio);
    const camera = t(p.video ? 'people.cameraOn' : 'people.cameraOff');
    this.camera.setAttribute('aria-label', camera);
    this.camera.title = camera;
    this.camera.dataset.on = String(p.video);
  }

  /** @param {string} label the name as shown */
  setLabel(label) {
    if (label === this.label) return;
    this.label = label;
    this.nameEl.textContent = label;
    this.nameEl.title = label; // the line may cut a long name short
    this.menu?.setLabel(t('mod.more', { name: label }));
  }

  /** @param {number | null} position */
  setHand(position) {
    this.hand = position;
    this.handEl.hidden = position === null;
    if (position === null) return;
    const label = t('hands.raised', { position });
    this.handEl.setAttribute('aria-label', label);
    this.handEl.title = label;
    const number = this.handEl.querySelector('.hand-position');
    if (number) number.textContent = String(position);
  }

  /** @param {(() => TileAction[]) | null} actions */
  setActions(actions) {
    if (!actions) {
      this.menu?.remove();
      this.menu = null;
    } else if (!this.menu) {
      this.menu = new ActionMenu(`person-menu-${++menuCounter}`, actions);
      this.menu.setLabel(t('mod.more', { name: this.label }));
      this.el.append(this.menu.el);
    }
  }
}

export class PeoplePanel {
  constructor() {
    this.root = byId('people-panel');
    this.heading = byId('people-heading');
    this.list = byId('people-list');
    this.toggleButton = /** @type {HTMLButtonElement} */ (byId('people-button'));
    this.count = byId('people-count');
    this.countText = byId('people-count-text');
    this.knock = byId('knock-notice');
    this.knockText = byId('knock-text');
    /** @type {Map<string, Person>} */
    this.people = new Map();
    this.serial = 0;
    /** @type {string[]} the names of those waiting (for moderators) */
    this.waiting = [];
    /** Moderator actions on a participant, or null for none. @type {(id: string) => (() => TileAction[]) | null} */
    this.actionsOf = () => null;
    /** @type {(open: boolean) => void} the layout changes (tiles resize) */
    this.onToggle = () => {};
    this.toggleButton.addEventListener('click', () => (this.root.hidden ? this.open() : this.close(true)));
    byId('people-close').addEventListener('click', () => this.close(true));
    byId('knock-open').addEventListener('click', () => {
      this.open();
      /** @type {HTMLButtonElement | null} */ (this.root.querySelector('#lobby-list button'))?.focus();
    });
    this.root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        this.close(true);
      }
    });
    this.updateCount();
  }

  get isOpen() {
    return !this.root.hidden;
  }

  open() {
    this.root.hidden = false;
    this.toggleButton.setAttribute('aria-expanded', 'true');
    this.updateKnock();
    this.onToggle(true);
    this.heading.focus();
  }

  /** @param {boolean} refocus give the focus back to the toggle */
  close(refocus) {
    if (this.root.hidden) return;
    const hadFocus = this.root.contains(document.activeElement);
    this.root.hidden = true;
    this.toggleButton.setAttribute('aria-expanded', 'false');
    this.updateKnock();
    this.onToggle(false);
    if (refocus || hadFocus) this.toggleButton.focus();
  }

  /** @param {Participant} p @param {boolean} self @param {boolean} plain not end-to-end encrypted */
  upsert(p, self, plain) {
    let person = this.people.get(p.id);
    if (!person) {
      person = new Person(p.id, self);
      person.serial = ++this.serial;
      this.people.set(p.id, person);
      person.setActions(this.actionsOf(p.id));
    }
    person.update(p, plain);
    this.sort();
    this.updateCount();
  }

  /** @param {string} id */
  remove(id) {
    const person = this.people.get(id);
    if (!person) return;
    person.setActions(null);
    person.el.remove();
    this.people.delete(id);
    this.updateCount();
  }

  /** @param {string} id @param {string} label the name as shown */
  setLabel(id, label) {
    this.people.get(id)?.setLabel(label);
  }

  /** Re-reads who gets which actions (after our role changed). */
  updateActions() {
    for (const person of this.people.values()) {
      person.setActions(null);
      person.setActions(this.actionsOf(person.id));
    }
  }

  /** @param {Map<string, number>} positions participant id → place in the queue of hands */
  setHands(positions) {
    for (const [id, person] of this.people) person.setHand(positions.get(id) ?? null);
    this.sort();
  }

  /** You first, then the raised hands in their order, then everyone as they came. */
  sort() {
    const order = [...this.people.values()].sort((a, b) => (
      Number(b.self) - Number(a.self)
      || (a.hand ?? Infinity) - (b.hand ?? Infinity)
      || a.serial - b.serial));
    const shown = Array.from(this.list.children);
    if (order.every((person, i) => shown[i] === person.el)) return;
    // Keep focus where it is: moving the focused line would drop it.
    const focused = /** @type {HTMLElement | null} */ (document.activeElement);
    this.list.append(...order.map((person) => person.el));
    if (focused && this.list.contains(focused)) focused.focus();
  }

  updateCount() {
    const n = this.people.size;
    this.count.textContent = String(n);
    this.countText.textContent = t('people.count', { count: n });
  }

  /** The names of those in the lobby (empty unless we moderate). @param {string[]} names */
  setWaiting(names) {
    this.waiting = names;
    this.updateKnock();
  }

  updateKnock() {
    const n = this.waiting.length;
    this.knock.hidden = n === 0 || this.isOpen;
    this.knockText.textContent = n === 1 ? t('mod.knock', { name: this.waiting[0] })
      : t('people.waitingMany', { count: n });
    this.toggleButton.classList.toggle('has-waiting', n > 0);
  }

  clear() {
    for (const id of [...this.people.keys()]) this.remove(id);
    this.serial = 0;
    this.setWaiting([]);
    this.close(false);
  }

  /** For the test hook. */
  snapshot() {
    return {
      open: this.isOpen,
      people: [...this.people.values()].map((p) => p.name),
      labels: [...this.people.values()].map((p) => p.label),
    };
  }
}
