// The chat's composer: the "Message" textbox and "Send". Enter sends, Shift+Enter starts a new
// line; a reply or an edit shows what it is about above the textbox, and Escape (or "Cancel")
// goes back to a new message. A message that could not be sent comes back into the textbox.

import { t } from '../i18n.js';

/**
 * @typedef {{send: (text: string, reply: number | null) => Promise<unknown>,
 *   edit: (seq: number, text: string) => Promise<unknown>,
 *   nameOf: (seq: number) => {name: string, excerpt: string} | null, typing: () => void}} ComposerOptions
 */

export class Composer {
  /** @param {HTMLElement} root the chat panel @param {ComposerOptions} options */
  constructor(root, options) {
    this.options = options;
    this.form = /** @type {HTMLFormElement} */ (root.querySelector('#composer'));
    this.input = /** @type {HTMLTextAreaElement} */ (root.querySelector('#message-input'));
    this.error = /** @type {HTMLElement} */ (root.querySelector('#composer-error'));
    this.context = /** @type {HTMLElement} */ (root.querySelector('#composer-context'));
    this.contextText = /** @type {HTMLElement} */ (root.querySelector('#composer-context-text'));
    this.cancel = /** @type {HTMLButtonElement} */ (root.querySelector('#composer-cancel'));
    /** @type {{kind: 'reply' | 'edit', seq: number} | null} */
    this.mode = null;
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#submit();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.#submit();
      } else if (e.key === 'Escape' && this.mode) {
        e.preventDefault();
        this.reset();
      }
    });
    this.input.addEventListener('input', () => {
      if (this.input.value.trim() && this.mode?.kind !== 'edit') options.typing(); // an edit is no new message
    });
    this.cancel.addEventListener('click', () => {
      this.reset();
      this.input.focus();
    });
  }

  focus() {
    this.input.focus();
  }

  /** @param {number} seq */
  replyTo(seq) {
    const about = this.options.nameOf(seq);
    this.#show({ kind: 'reply', seq }, about ? t('chat.replyTo', { name: about.name, text: about.excerpt }) : t('chat.replyToUnknown'));
  }

  /** @param {number} seq @param {string} text */
  editing(seq, text) {
    this.#show({ kind: 'edit', seq }, t('chat.editing'));
    this.input.value = text;
  }

  /** @param {{kind: 'reply' | 'edit', seq: number}} mode @param {string} text */
  #show(mode, text) {
    this.mode = mode;
    this.contextText.textContent = text;
    this.context.hidden = false;
    this.input.focus();
  }

  reset() {
    if (this.mode?.kind === 'edit') this.input.value = '';
    this.mode = null;
    this.context.hidden = true;
    this.contextText.textContent = '';
  }

  async #submit() {
    const text = this.input.value.trim();
    if (!text) return;
    const mode = this.mode;
    this.input.value = '';
    this.error.textContent = '';
    this.reset();
    try {
      if (mode?.kind === 'edit') await this.options.edit(mode.seq, text);
      else await this.options.send(text, mode?.kind === 'reply' ? mode.seq : null);
    } catch (error) {
      this.input.value = text; // nothing is lost: the text is back in the composer
      const reason = error instanceof Error ? error.message : String(error);
      this.error.textContent = t('chat.failed', { reason });
    }
  }
}
