// Raised hands: the toolbar's "Raise hand" toggle, each hand's place in the queue on its tile and
// in the participant list ("Hand raised (2)"), and for moderators a polite announcement of every
// new hand. The server keeps the queue (docs/protocol.md, "Raised hands and reactions"); this
// only shows it.

import { t } from './i18n.js';
import { msg } from './protocol.js';

/** @typedef {import('./protocol.js').RaisedHand} RaisedHand */
/** @typedef {import('./signaling.js').Signaling} Signaling */
/**
 * What the hands and the reactions need of the page.
 * @typedef {{
 *   meeting: import('./meeting.js').MeetingView,
 *   send: (m: import('./protocol.js').ClientMessage) => void,
 *   selfId: () => string | null,
 *   nameOf: (id: string) => string,
 *   announce: (text: string, shown?: boolean) => void,
 * }} MeetingParts
 */

export class HandsControl {
  /** @param {MeetingParts} parts */
  constructor(parts) {
    this.parts = parts;
    this.button = /** @type {HTMLButtonElement} */ (document.getElementById('hand-button'));
    /** @type {Map<string, number>} participant id → place in the queue */
    this.positions = new Map();
    this.button.addEventListener('click', () => {
      parts.send(msg.raiseHand(this.button.getAttribute('aria-pressed') !== 'true'));
    });
  }

  /** Follows one participation's messages (after app.js's own, so that the tiles exist).
   * @param {Signaling} signaling @param {() => boolean} current */
  attach(signaling, current) {
    this.show([], false);
    signaling.on('welcome', (m) => current() && this.show(m.hands, false));
    signaling.on('hands', (m) => current() && this.show(m.hands, true));
    signaling.on('moderation', (m) => {
      const self = this.parts.selfId();
      if (current() && m.action === 'lower_hand' && self && m.target === self) {
        this.parts.announce(t('you.handLowered'), true);
      }
    });
  }

  /** @param {string} id @returns {boolean} */
  isRaised(id) {
    return this.positions.has(id);
  }

  /** @param {RaisedHand[]} hands the whole queue @param {boolean} announce new hands */
  show(hands, announce) {
    const before = this.positions;
    this.positions = new Map(hands.map((h) => [h.participant, h.position]));
    for (const [id, tile] of this.parts.meeting.tiles) tile.setHand(this.positions.get(id) ?? null);
    this.parts.meeting.people.setHands(this.positions);
    const self = this.parts.selfId();
    this.button.setAttribute('aria-pressed', String(!!self && this.positions.has(self)));
    if (!announce || !this.parts.meeting.moderator) return;
    for (const { participant } of hands) {
      if (participant !== self && !before.has(participant)) {
        this.parts.announce(t('hands.announce', { name: this.parts.nameOf(participant) }));
      }
    }
  }

  /** For the test hook: the queue, in order. @returns {string[]} */
  snapshot() {
    return [...this.positions.keys()];
  }
}
