// Reactions: the toolbar's "Reactions" button opens a small popup of emoji buttons (a disclosure,
// like a tile's moderator menu: Escape closes it and gives the focus back to the button). Each
// reaction floats briefly over its sender's tile, for everyone, and is announced politely
// ("Anna reacts: Thumbs up"); the floating emoji itself is hidden from screen readers.

import { t } from './i18n.js';
import { REACTIONS, msg } from './protocol.js';

/** @typedef {import('./protocol.js').Reaction} Reaction */
/** @typedef {import('./i18n.js').MessageKey} MessageKey */
/** @typedef {import('./hands.js').MeetingParts} MeetingParts */

/** How each reaction is drawn (the wire carries names: docs/protocol.md). @type {Record<Reaction, string>} */
export const EMOJI = Object.freeze({
  thumbs_up: '👍', applause: '👏', laugh: '😂', surprise: '😮', heart: '❤️', party: '🎉',
});
/** How long a reaction stays over the tile (with reduced motion it stands still meanwhile). */
const SHOWN_MS = 2600;

/** @param {Reaction} reaction @returns {string} */
function nameOf(reaction) {
  return t(/** @type {MessageKey} */ (`reaction.${reaction}`));
}

export class ReactionsControl {
  /** @param {MeetingParts} parts */
  constructor(parts) {
    this.parts = parts;
    this.button = /** @type {HTMLButtonElement} */ (document.getElementById('reactions-button'));
    this.popup = /** @type {HTMLElement} */ (document.getElementById('reactions-popup'));
    for (const reaction of REACTIONS) {
      const choice = document.createElement('button');
      choice.type = 'button';
      choice.className = 'reaction';
      choice.dataset.reaction = reaction;
      choice.setAttribute('aria-label', nameOf(reaction));
      choice.title = nameOf(reaction);
      choice.textContent = EMOJI[reaction];
      choice.addEventListener('click', () => {
        this.close(true);
        parts.send(msg.react(reaction));
      });
      this.popup.append(choice);
    }
    this.button.addEventListener('click', () => (this.popup.hidden ? this.open() : this.close(true)));
    this.popup.addEventListener('keydown', (e) => this.onKey(e));
    this.popup.addEventListener('focusout', (e) => {
      const next = /** @type {Node | null} */ (e.relatedTarget);
      if (next && !this.popup.contains(next) && next !== this.button) this.close(false);
    });
    window.addEventListener('resize', () => this.popup.hidden || this.place()); // a phone turned
    document.addEventListener('pointerdown', (e) => {
      const target = /** @type {Node} */ (e.target);
      if (!this.popup.hidden && !this.popup.contains(target) && !this.button.contains(target)) {
        this.close(false);
      }
    });
  }

  /** Follows one participation's messages. @param {import('./signaling.js').Signaling} signaling
   * @param {() => boolean} current */
  attach(signaling, current) {
    this.close(false);
    signaling.on('reaction', (m) => {
      if (!current()) return;
      this.float(m.participant, m.reaction);
      if (m.participant !== this.parts.selfId()) {
        const name = this.parts.nameOf(m.participant);
        this.parts.announce(t('reactions.announce', { name, reaction: nameOf(m.reaction) }));
      }
    });
    signaling.on('error', (m) => {
      if (current() && m.code === 'rate_limited' && m.ref === 'react') {
        this.parts.announce(t('reactions.tooMany'), true);
      }
    });
  }

  open() {
    this.popup.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.place();
    /** @type {HTMLButtonElement | null} */ (this.popup.querySelector('button'))?.focus();
  }

  /** @param {boolean} refocus give the focus back to the "Reactions" button */
  close(refocus) {
    if (this.popup.hidden) return;
    this.popup.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (refocus) this.button.focus();
  }

  /** Just above the button, within the meeting's width. */
  place() {
    const area = this.parts.meeting.root.getBoundingClientRect();
    const button = this.button.getBoundingClientRect();
    const width = this.popup.offsetWidth;
    const left = button.left + button.width / 2 - width / 2 - area.left;
    this.popup.style.left = `${Math.max(8, Math.min(left, area.width - width - 8))}px`;
    this.popup.style.bottom = `${area.bottom - button.top + 8}px`;
  }

  /** Escape closes; the arrow keys, Home and End move between the emoji. @param {KeyboardEvent} e */
  onKey(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.close(true);
      return;
    }
    const list = /** @type {HTMLButtonElement[]} */ (Array.from(this.popup.querySelectorAll('button')));
    const index = list.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: list.length - 1 };
    if (index >= 0 && e.key in moves) {
      e.preventDefault();
      const next = moves[/** @type {keyof typeof moves} */ (e.key)];
      list[(next + list.length) % list.length].focus();
    }
  }

  /** The reaction rises over the sender's tile and fades (CSS), then goes.
   * @param {string} participantId @param {Reaction} reaction */
  float(participantId, reaction) {
    const tile = this.parts.meeting.tiles.get(participantId);
    if (!tile) return;
    const shown = document.createElement('span');
    shown.className = 'reaction-float';
    shown.setAttribute('aria-hidden', 'true');
    shown.dataset.reaction = reaction;
    shown.textContent = EMOJI[reaction];
    // Side by side rather than on top of each other when several arrive at once.
    shown.style.setProperty('--x', `${25 + Math.random() * 50}%`);
    tile.el.append(shown);
    setTimeout(() => shown.remove(), SHOWN_MS);
  }
}
