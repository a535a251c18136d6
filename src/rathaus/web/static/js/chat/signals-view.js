// What the room's other members let this page see, and nothing stores: "Read by …" under the
// newest message each of them has read (only members who chose to share it), and "… is typing"
// above the composer (only where the server's operator switched typing indicators on).

import { language, t } from '../i18n.js';

/** "Anna, Bernd und Carla" / "Anna, Bernd, and Carla". @param {string[]} names */
function list(names) {
  const sorted = names.slice().sort((a, b) => a.localeCompare(b));
  return new Intl.ListFormat(language(), { style: 'long', type: 'conjunction' }).format(sorted);
}

const TYPING_SHOWN = 6000; // ms a "typing" lasts without another (the browser repeats it every 4 s)

export class SignalsView {
  /** @param {HTMLElement} root the chat panel @param {{nameOf: (user: string) => string}} options */
  constructor(root, options) {
    this.list = /** @type {HTMLElement} */ (root.querySelector('#message-list'));
    this.typingLine = /** @type {HTMLElement} */ (root.querySelector('#chat-typing'));
    this.nameOf = options.nameOf;
    /** @type {Map<string, number>} user → the number they have read up to */
    this.readBy = new Map();
    /** @type {Map<string, ReturnType<typeof setTimeout>>} who is typing, until when */
    this.typing = new Map();
  }

  /** Who shares how far they have read, as the server says on opening the room (a member who
   * stopped sharing, or left, is not in it any more). @param {{user: string, seq: number}[]} readers */
  setReadBy(readers) {
    this.readBy = new Map(readers.map((r) => [r.user, r.seq]));
    this.render();
  }

  /** @param {string} user @param {number} seq 0: they stopped sharing it */
  read(user, seq) {
    if (seq <= 0) {
      if (this.readBy.delete(user)) this.render();
      return;
    }
    if ((this.readBy.get(user) ?? 0) >= seq) return;
    this.readBy.set(user, seq);
    this.render();
  }

  /** Puts the "Read by" lines in place (after messages came or changed, too), touching only
   * those that changed: the log would announce every line put in anew. */
  render() {
    const items = /** @type {HTMLElement[]} */ (Array.from(this.list.querySelectorAll(':scope > li.message')));
    /** @type {Map<HTMLElement, string[]>} */
    const readers = new Map();
    for (const [user, seq] of this.readBy) {
      const target = items.slice().reverse().find((item) => Number(item.dataset.seq) <= seq);
      if (target) readers.set(target, [...(readers.get(target) ?? []), this.nameOf(user)]);
    }
    /** @type {Map<HTMLElement, string>} */
    const wanted = new Map([...readers].map(([item, names]) => [item, t('chat.readBy', { names: list(names) })]));
    this.list.querySelectorAll('.read-by').forEach((line) => {
      const item = /** @type {HTMLElement} */ (line.parentElement);
      if (wanted.get(item) === line.textContent) wanted.delete(item);
      else line.remove();
    });
    for (const [item, text] of wanted) {
      const line = document.createElement('p');
      line.className = 'read-by';
      line.textContent = text;
      item.append(line);
    }
  }

  /** @param {string} user */
  typingNow(user) {
    clearTimeout(this.typing.get(user));
    this.typing.set(user, setTimeout(() => this.stoppedTyping(user), TYPING_SHOWN));
    this.#showTyping();
  }

  /** @param {string} user e.g. their message came */
  stoppedTyping(user) {
    clearTimeout(this.typing.get(user));
    if (this.typing.delete(user)) this.#showTyping();
  }

  // Not a live region, on purpose: a screen reader would be interrupted every few seconds.
  #showTyping() {
    const names = [...this.typing.keys()].map(this.nameOf);
    this.typingLine.hidden = names.length === 0;
    this.typingLine.textContent = names.length === 1
      ? t('chat.typingOne', { name: names[0] })
      : names.length ? t('chat.typingMany', { names: list(names) }) : '';
  }
}
