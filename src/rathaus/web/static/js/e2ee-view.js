// The meeting's end-to-end encryption as the participant sees it: a calm badge in the top bar
// ("End-to-end encrypted", or plainly "Not end-to-end encrypted"), and the "Encryption" panel it
// opens (also from "More"): what the state means, in plain words, and the safety code to compare.
// A change of the state is announced politely.

import { t } from './i18n.js';
import { ModalPanel } from './dialog.js';

/** @typedef {import('./encryption.js').EncryptionState} EncryptionState */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** @param {boolean} encrypted @returns {string} */
export function e2eeText(encrypted) {
  return t(encrypted ? 'e2ee.on' : 'e2ee.off');
}

export class EncryptionView {
  /** @param {(text: string) => void} announce @param {() => HTMLElement | null} fallback */
  constructor(announce, fallback) {
    this.announce = announce;
    this.badge = /** @type {HTMLButtonElement} */ (byId('e2ee-indicator'));
    this.badgeText = byId('e2ee-text');
    this.badgeIcon = /** @type {HTMLElement} */ (this.badge.querySelector('.icon'));
    this.panel = new ModalPanel('e2ee-dialog', fallback);
    this.stateLine = byId('e2ee-state');
    this.explain = byId('e2ee-explain');
    this.safety = byId('safety');
    this.safetyCode = byId('safety-code');
    this.safetySpoken = byId('safety-spoken');
    /** @type {boolean | null} the state last shown (null: none yet in this participation) */
    this.shown = null;
    this.badge.addEventListener('click', () => this.open());
    this.show({ on: false, encrypted: false, safetyCode: null }, false);
    this.shown = null;
  }

  open() {
    this.panel.show(/** @type {HTMLElement | null} */ (this.panel.dialog.querySelector('.dialog-close')));
  }

  /** @param {EncryptionState} state @param {boolean} inMeeting announce a change */
  show(state, inMeeting) {
    const { on, encrypted, safetyCode: code } = state;
    const text = e2eeText(encrypted);
    for (const el of [this.badge, this.stateLine]) el.dataset.encrypted = String(encrypted);
    this.badgeText.textContent = text;
    this.badgeIcon.className = `icon ${encrypted ? 'icon-lock' : 'icon-lock-open'}`;
    this.stateLine.textContent = text;
    this.explain.textContent = t(!on ? 'e2ee.explainOff' : encrypted ? 'e2ee.explainOn' : 'e2ee.explainMixed');
    this.safety.hidden = !code;
    this.safetyCode.textContent = code ? code.display : '';
    this.safetySpoken.textContent = code ? code.spoken : '';
    const before = this.shown;
    this.shown = encrypted;
    if (inMeeting && before !== null && before !== encrypted) this.announce(text);
  }

  /** A new participation: its first state is announced on entering, not as a change. */
  reset() {
    this.shown = null;
    this.panel.close();
  }
}
