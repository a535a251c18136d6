// A modal confirmation (native <dialog>: the page behind is inert, Escape cancels), with an
// optional checkbox. Focus starts on "Cancel" and returns to where it was.

import { t } from './i18n.js';

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** @typedef {{title: string, text: string, confirm: string, checkbox?: string}} Question */

export class ConfirmDialog {
  constructor() {
    this.dialog = /** @type {HTMLDialogElement} */ (byId('confirm-dialog'));
    this.title = byId('confirm-title');
    this.text = byId('confirm-text');
    this.option = byId('confirm-option');
    this.checkbox = /** @type {HTMLInputElement} */ (byId('confirm-checkbox'));
    this.checkboxLabel = byId('confirm-checkbox-label');
    this.ok = /** @type {HTMLButtonElement} */ (byId('confirm-ok'));
    this.cancel = /** @type {HTMLButtonElement} */ (byId('confirm-cancel'));
    /** @type {((answer: {checked: boolean} | null) => void) | null} */
    this.pending = null;
    this.dialog.addEventListener('close', () => {
      const resolve = this.pending;
      this.pending = null;
      resolve?.(this.dialog.returnValue === 'ok' ? { checked: this.checkbox.checked } : null);
    });
  }

  get open() { return this.dialog.open; }

  /** @param {Question} q @returns {Promise<{checked: boolean} | null>} null if cancelled */
  ask(q) {
    if (this.dialog.open) this.close();
    const opener = /** @type {HTMLElement | null} */ (document.activeElement);
    this.title.textContent = q.title;
    this.text.textContent = q.text;
    this.option.hidden = !q.checkbox;
    this.checkbox.checked = false;
    this.checkboxLabel.textContent = q.checkbox ?? '';
    this.ok.textContent = q.confirm;
    this.cancel.textContent = t('mod.cancel');
    this.dialog.returnValue = '';
    this.dialog.showModal();
    this.cancel.focus();
    return new Promise((resolve) => {
      this.pending = (answer) => {
        if (opener && opener.isConnected) opener.focus();
        resolve(answer);
      };
    });
  }

  close() {
    if (this.dialog.open) this.dialog.close('');
  }
}

/** A modal panel (native <dialog>: "Meeting info", "Encryption"): its "Close" buttons and
 * Escape close it, and the focus goes back to where it was (or to ``fallback`` when that went). */
export class ModalPanel {
  /** @param {string} id @param {() => HTMLElement | null} [fallback] */
  constructor(id, fallback = () => null) {
    this.dialog = /** @type {HTMLDialogElement} */ (byId(id));
    /** @type {HTMLElement | null} */
    this.opener = null;
    for (const close of Array.from(this.dialog.querySelectorAll('.dialog-close'))) {
      close.addEventListener('click', () => this.close());
    }
    this.dialog.addEventListener('close', () => {
      const back = this.opener?.isConnected && this.opener.checkVisibility?.() ? this.opener : fallback();
      this.opener = null;
      back?.focus();
    });
  }

  get open() { return this.dialog.open; }

  /** @param {HTMLElement | null} [focus] what gets the focus inside (default: the first control) */
  show(focus = null) {
    if (this.dialog.open) return;
    this.opener = /** @type {HTMLElement | null} */ (document.activeElement);
    this.dialog.showModal();
    focus?.focus();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }
}
