// The open conversation on screen: the "Messages" log with day separators, each message with its
// reply quote, attachment, reactions and actions ("Reply", "React", "Edit", "Delete"), and the composer
// ("Message", "Send"; Enter sends, Shift+Enter starts a new line, Escape cancels a reply or edit).
// Text is shown as text nodes, never as HTML; links stay text (nothing is fetched for them).

import { t, language } from '../i18n.js';
import { excerpt, find, REACTIONS } from './thread.js';
import { Composer } from './composer.js';
import { mentions, parse, render } from './format.js';
import { installAttach, renderAttachment } from './attachment-view.js';

/** @typedef {import('./thread.js').ThreadMessage} ThreadMessage */
/** @typedef {import('./thread.js').ReactionName} ReactionName */
/** @typedef {import('../i18n.js').MessageKey} MessageKey */
/**
 * What the view asks of the page.
 * @typedef {{send: (text: string, reply: number | null) => Promise<unknown>,
 *   edit: (seq: number, text: string) => Promise<unknown>, remove: (message: ThreadMessage) => Promise<unknown>,
 *   react: (seq: number, name: ReactionName, on: boolean) => Promise<unknown>,
 *   nameOf: (user: string | null) => string, isMember: (user: string) => boolean,
 *   me: () => string | null, moderates: () => boolean,
 *   messages: () => ThreadMessage[], typing: () => void, vouches: (user: string | null) => boolean,
 *   fetchFile: (info: import('./attachments.js').FileInfo, progress: import('./attachments.js').Progress) => Promise<Blob>,
 * } & import('./attachment-view.js').AttachOptions} ViewOptions
 */

const DAY = 24 * 3600 * 1000;

/** @param {number} at @returns {string} a day's key in local time */
function dayOf(at) {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** @param {number} at @param {number} now */
export function dayLabel(at, now) {
  if (dayOf(at) === dayOf(now)) return t('chat.today');
  if (dayOf(at) === dayOf(now - DAY)) return t('chat.yesterday');
  return new Date(at).toLocaleDateString(language(), { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
}

/** @param {string} className @param {string} [text] */
function element(tag = 'p', className = '', text = '') {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** @param {MessageKey} key @param {() => void} action */
function actionButton(key, action) {
  const button = /** @type {HTMLButtonElement} */ (element('button', 'message-action', t(key)));
  button.type = 'button';
  button.addEventListener('click', action);
  return button;
}

export class ChatView {
  /** @param {HTMLElement} root the chat panel @param {ViewOptions} options */
  constructor(root, options) {
    this.root = root;
    this.options = options;
    this.list = /** @type {HTMLOListElement} */ (root.querySelector('#message-list'));
    this.empty = /** @type {HTMLElement} */ (root.querySelector('#chat-empty'));
    this.status = /** @type {HTMLElement} */ (root.querySelector('#chat-status'));
    /** @type {Map<number, HTMLLIElement>} */
    this.items = new Map();
    /** @type {number | undefined} */
    this.readMarker = undefined;
    this.composer = new Composer(root, {
      send: (text, reply) => options.send(text, reply),
      edit: (seq, text) => options.edit(seq, text),
      typing: () => options.typing(),
      nameOf: (seq) => {
        const message = find(options.messages(), seq);
        return message ? { name: this.#author(message), excerpt: excerpt(message) } : null;
      },
    });
    this.picker = this.#makePicker();
    installAttach(root, options);
  }

  /** Says so when the room had messages before this device came in (MLS gives it no keys of
   * the past): never a silent gap. @param {boolean} earlier */
  setEarlier(earlier) {
    let note = /** @type {HTMLElement | null} */ (this.root.querySelector('#chat-earlier'));
    if (!earlier) {
      note?.remove();
      return;
    }
    if (note) return;
    note = element('p', 'note chat-earlier', t('chat.earlier'));
    note.id = 'chat-earlier';
    this.list.before(note);
  }

  /** How many devices can read what is written here (the MLS group's members). @param {number} count */
  setDevices(count) {
    const node = this.root.querySelector('#chat-devices');
    if (node) node.textContent = t('chat.devices', { count });
    const group = /** @type {HTMLElement | null} */ (this.root.querySelector('#chat-group'));
    if (group) group.hidden = false; // shown once this device knows the group
  }

  /** @param {string} text */
  setStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  /** The "new messages" line goes before the first message of others after number `seq`
   * (how far the member had read when the room opened). @param {number} seq */
  setReadMarker(seq) {
    this.readMarker = seq;
    this.#placeNewLine();
  }

  #placeNewLine() {
    if (this.readMarker === undefined || this.root.querySelector('#new-messages')) return;
    const me = this.options.me();
    const first = [...this.items.entries()]
      .filter(([seq, item]) => seq > /** @type {number} */ (this.readMarker) && item.dataset.user !== me)
      .sort(([a], [b]) => a - b)[0];
    if (!first) return;
    const line = element('li', 'new-line', t('chat.newMessages'));
    line.id = 'new-messages';
    line.dataset.seq = String(first[0] - 0.25);
    line.dataset.at = first[1].dataset.at;
    first[1].before(line);
  }

  /** @param {ThreadMessage[]} messages new ones, in order */
  add(messages) {
    const atBottom = this.list.parentElement
      ? this.list.parentElement.scrollHeight - this.list.parentElement.scrollTop - this.list.parentElement.clientHeight < 40
      : true;
    for (const message of messages) {
      if (this.items.has(message.seq)) continue;
      const item = this.#render(message);
      this.items.set(message.seq, item);
      this.#insert(item, message);
    }
    this.empty.hidden = this.items.size > 0;
    this.#placeNewLine();
    const mine = messages.some((m) => m.user !== null && m.user === this.options.me());
    if ((atBottom || mine) && this.list.parentElement) {
      this.list.parentElement.scrollTop = this.list.parentElement.scrollHeight;
    }
  }

  /** @param {ThreadMessage[]} messages changed ones (edited, reacted to, deleted) */
  change(messages) {
    for (const message of messages) {
      const old = this.items.get(message.seq);
      if (!old) continue;
      const focused = old.contains(document.activeElement);
      const item = this.#render(message);
      old.replaceWith(item);
      this.items.set(message.seq, item);
      if (focused) /** @type {HTMLElement | null} */ (item.querySelector('.message-action'))?.focus();
    }
  }

  /** @param {HTMLLIElement} item @param {ThreadMessage} message */
  #insert(item, message) {
    // In order of numbers; a device's own come back at their acknowledgement: find the place.
    let after = /** @type {HTMLElement | null} */ (this.list.lastElementChild);
    while (after && Number(after.dataset.seq ?? 0) > message.seq) {
      after = /** @type {HTMLElement | null} */ (after.previousElementSibling);
    }
    const first = /** @type {HTMLElement | null} */ (this.list.firstElementChild);
    if (!after && first?.classList.contains('day-separator') && dayOf(Number(first.dataset.at)) === dayOf(message.at)) {
      // An older message of the first day shown (e.g. from a shared history): under its heading.
      first.dataset.seq = String(message.seq - 0.5);
      after = first;
    } else if (!after || dayOf(Number(after.dataset.at)) !== dayOf(message.at)) {
      const separator = element('li', 'day-separator');
      separator.dataset.seq = String(message.seq - 0.5);
      separator.dataset.at = String(message.at);
      separator.append(element('span', '', dayLabel(message.at, Date.now())));
      if (after) after.after(separator);
      else this.list.prepend(separator);
      after = separator;
    }
    after.after(item);
  }

  /** @param {ThreadMessage} message */
  #author(message) {
    return this.#mine(message) ? t('chat.you') : this.options.nameOf(message.user);
  }

  /** This member's own message (never one a shared history says is theirs). @param {ThreadMessage} message */
  #mine(message) {
    return message.user !== null && message.user === this.options.me() && !message.sharedBy;
  }

  /** @param {ThreadMessage} message @returns {HTMLLIElement} */
  #render(message) {
    const item = /** @type {HTMLLIElement} */ (element('li', 'message'));
    item.dataset.seq = String(message.seq);
    item.dataset.at = String(message.at);
    item.dataset.user = message.user ?? '';
    const meta = element('p', 'message-meta');
    const time = /** @type {HTMLTimeElement} */ (element('time'));
    time.dateTime = new Date(message.at).toISOString();
    time.textContent = new Date(message.at).toLocaleTimeString(language(), { hour: '2-digit', minute: '2-digit' });
    meta.append(element('span', 'message-author', this.#author(message)), ' ', time);
    if (message.edited) meta.append(' ', element('span', 'message-edited', t('chat.edited')));
    if (message.sharedBy) {
      meta.append(' ', element('span', 'message-shared', t('chat.fromHistory', { name: this.options.nameOf(message.sharedBy) })));
    }
    item.append(meta);
    if (message.reply !== null && !message.deleted) item.append(this.#quote(message.reply));
    const body = element('p', 'message-text');
    if (message.deleted) {
      item.classList.add('deleted');
      body.textContent = t('chat.deleted');
    } else if (message.history !== undefined && this.options.vouches(message.user)) {
      body.textContent = t('chat.historyShared', { count: message.history });
    } else if (message.body !== null) {
      // Text nodes and a few elements, never HTML (format.js); white-space: pre-wrap keeps lines.
      const parts = parse(message.body, this.options.isMember);
      body.append(...render(parts, (user) => this.options.nameOf(user)));
      const me = this.options.me();
      if (me !== null && !this.#mine(message) && mentions(parts).includes(me)) item.classList.add('mentions-me');
    } else {
      item.classList.add('unreadable');
      body.textContent = t(message.problem === 'undecryptable' ? 'chat.undecryptable' : 'chat.beforeJoin');
    }
    item.append(body);
    if (message.deleted || message.body === null) return item;
    if (message.file) item.append(renderAttachment(message.file, this.options.fetchFile));
    const reactions = this.#reactions(message);
    if (reactions) item.append(reactions);
    item.append(this.#actions(message));
    return item;
  }

  /** @param {number} seq */
  #quote(seq) {
    const quoted = find(this.options.messages(), seq);
    const quote = element('p', 'message-quote');
    quote.textContent = quoted && quoted.body !== null
      ? t('chat.replyTo', { name: this.#author(quoted), text: excerpt(quoted) })
      : t('chat.replyToUnknown');
    return quote;
  }

  /** @param {ThreadMessage} message */
  #reactions(message) {
    const names = /** @type {ReactionName[]} */ (Object.keys(message.reactions));
    if (!names.length) return null;
    const box = element('div', 'message-reactions');
    const me = this.options.me();
    for (const name of names) {
      const users = message.reactions[name];
      const button = /** @type {HTMLButtonElement} */ (element('button', 'reaction-chip', `${REACTIONS[name]} ${users.length}`));
      button.type = 'button';
      const mine = me !== null && users.includes(me);
      button.setAttribute('aria-pressed', String(mine));
      button.setAttribute('aria-label', t('chat.reactionCount', {
        reaction: t(/** @type {MessageKey} */ (`reaction.${name}`)), count: users.length,
        names: users.map((u) => this.options.nameOf(u)).join(', '),
      }));
      button.addEventListener('click', () => this.options.react(message.seq, name, !mine));
      box.append(button);
    }
    return box;
  }

  /** @param {ThreadMessage} message */
  #actions(message) {
    const actions = element('div', 'message-actions');
    const mine = this.#mine(message);
    actions.append(actionButton('chat.reply', () => this.composer.replyTo(message.seq)));
    const react = actionButton('chat.react', () => this.#openPicker(message.seq, react));
    react.setAttribute('aria-haspopup', 'true');
    actions.append(react);
    if (mine && !message.file) actions.append(actionButton('chat.edit', () => this.composer.editing(message.seq, message.body ?? '')));
    if (mine || this.options.moderates()) {
      actions.append(actionButton('chat.delete', () => this.options.remove(message)));
    }
    return actions;
  }

  #makePicker() {
    const picker = element('div', 'reaction-picker');
    picker.setAttribute('role', 'group');
    picker.setAttribute('aria-label', t('chat.react'));
    picker.hidden = true;
    for (const name of /** @type {ReactionName[]} */ (Object.keys(REACTIONS))) {
      const choice = /** @type {HTMLButtonElement} */ (element('button', 'reaction-choice', REACTIONS[name]));
      choice.type = 'button';
      choice.dataset.reaction = name;
      choice.setAttribute('aria-label', t(/** @type {MessageKey} */ (`reaction.${name}`)));
      picker.append(choice);
    }
    picker.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.#closePicker(true);
    });
    picker.addEventListener('focusout', (e) => {
      if (!picker.contains(/** @type {Node | null} */ (e.relatedTarget))) this.#closePicker(false);
    });
    picker.addEventListener('click', (e) => {
      const choice = /** @type {HTMLElement} */ (e.target).closest('button');
      const seq = Number(picker.dataset.seq);
      if (!choice || !seq) return;
      const name = /** @type {ReactionName} */ (choice.dataset.reaction);
      const message = find(this.options.messages(), seq);
      const me = this.options.me();
      const on = !(me !== null && message?.reactions[name]?.includes(me));
      this.#closePicker(true);
      this.options.react(seq, name, on);
    });
    return picker;
  }

  /** @type {HTMLButtonElement | null} */
  #pickerOpener = null;

  /** @param {number} seq @param {HTMLButtonElement} opener */
  #openPicker(seq, opener) {
    this.picker.dataset.seq = String(seq);
    this.#pickerOpener = opener;
    opener.setAttribute('aria-expanded', 'true');
    opener.closest('.message-actions')?.after(this.picker);
    this.picker.hidden = false;
    /** @type {HTMLElement | null} */ (this.picker.querySelector('button'))?.focus();
  }

  /** @param {boolean} refocus */
  #closePicker(refocus) {
    if (this.picker.hidden) return;
    this.picker.hidden = true;
    this.#pickerOpener?.setAttribute('aria-expanded', 'false');
    if (refocus && this.#pickerOpener?.isConnected) this.#pickerOpener.focus();
    else if (refocus) this.composer.focus();
    this.#pickerOpener = null;
  }
}
