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
