// "Previous page", "Page 1 of 3", "Next page" under the videos, shown only when there is more
// than one page. The buttons stay focusable at either end (aria-disabled, not disabled), so that
// the focus is not lost on the last page.

import { t } from './i18n.js';

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

export class Pager {
  /** @param {(step: number) => void} onTurn -1 back, +1 on */
  constructor(onTurn) {
    this.root = byId('pager');
    this.prev = byId('page-prev');
    this.next = byId('page-next');
    this.text = byId('page-text');
    this.prev.title = t('layout.previous');
    this.next.title = t('layout.next');
    for (const [button, step] of /** @type {[HTMLElement, number][]} */ ([[this.prev, -1], [this.next, 1]])) {
      button.addEventListener('click', () => {
        if (button.getAttribute('aria-disabled') !== 'true') onTurn(step);
      });
    }
  }

  /** @param {number} page 0-based @param {number} pages */
  show(page, pages) {
    this.root.hidden = pages <= 1;
    this.text.textContent = this.label(page, pages);
    this.prev.setAttribute('aria-disabled', String(page <= 0));
    this.next.setAttribute('aria-disabled', String(page >= pages - 1));
  }

  /** @param {number} page 0-based @param {number} pages @returns {string} */
  label(page, pages) {
    return t('layout.page', { page: page + 1, pages });
  }
}
