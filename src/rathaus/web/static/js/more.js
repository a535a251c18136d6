// The toolbar's "More": a popup above the button with "Meeting info" and "Encryption" for
// everyone, and for moderators "Mute all", "Lock meeting", "Allow participants without
// encryption" and, apart and red, "End meeting for all" (moderator.js wires those).

import { PopupMenu } from './menu.js';

/** @param {string} id @returns {HTMLButtonElement} */
function button(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return /** @type {HTMLButtonElement} */ (el);
}

export class MoreMenu {
  /** @param {HTMLElement} area the meeting, within which the popup stays */
  constructor(area) {
    this.area = area;
    this.button = button('more-button');
    this.popup = /** @type {HTMLElement} */ (document.getElementById('more-menu'));
    this.infoButton = button('info-button');
    this.e2eeButton = button('e2ee-button');
    this.menu = new PopupMenu(this.button, this.popup, { place: () => this.place() });
    // An entry closes the popup before it acts, so that a dialog it opens gives the focus back
    // to "More"; a toggle (aria-pressed) keeps it open to show its new state.
    this.popup.addEventListener('click', (e) => {
      const entry = /** @type {HTMLElement} */ (e.target).closest('button');
      if (entry && !entry.hasAttribute('aria-pressed')) this.menu.close(true);
    }, true);
    window.addEventListener('resize', () => this.menu.isOpen && this.place()); // a phone turned
  }

  /** Shows the moderators' entries or not. @param {boolean} on @param {boolean} e2eeRequired */
  setModerator(on, e2eeRequired) {
    for (const el of Array.from(this.popup.querySelectorAll('.moderator-only'))) {
      /** @type {HTMLElement} */ (el).hidden = !on || (el.id === 'allow-plain-button' && !e2eeRequired);
    }
  }

  /** Just above the button, its right edge at the button's, within the meeting. */
  place() {
    const area = this.area.getBoundingClientRect();
    const anchor = this.button.getBoundingClientRect();
    const width = this.popup.offsetWidth;
    const left = anchor.right - width - area.left;
    this.popup.style.left = `${Math.max(8, Math.min(left, area.width - width - 8))}px`;
    this.popup.style.bottom = `${area.bottom - anchor.top + 8}px`;
    this.popup.style.maxHeight = `${Math.max(120, anchor.top - area.top - 16)}px`;
  }

  close() {
    this.menu.close(false);
  }
}
