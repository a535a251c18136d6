// One video tile: a participant's camera (in the grid) or a screen share (on the stage).
// Server-provided names are only ever set through textContent and attributes.

import { applySpeaker } from './speaker.js';
import { t } from './i18n.js';
import { ActionMenu } from './menu.js';

/** Initials for the camera-off placeholder: first letters of the first two words.
 * @param {string} name @returns {string} */
export function initials(name) {
  const words = name.split(/\s+/u).map((w) => w.replace(/[^\p{L}\p{N}]/gu, '')).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => [...w][0] ?? '');
  return letters.join('').toLocaleUpperCase() || '?';
}

/** @typedef {{label: string, run: () => void, danger?: boolean}} TileAction */

let menuCounter = 0;

export class Tile {
  /**
   * @param {{participantId: string, name: string, self?: boolean, kind?: 'camera' | 'screen'}} opts
   */
  constructor({ participantId, name, self = false, kind = 'camera' }) {
    this.participantId = participantId;
    this.kind = kind;
    this.self = self;
    /** @type {string | null} */
    this.feedId = null;
    this.name = '';
    /** the name as shown: with a mark where two have the same (names.js) */
    this.label = '';
    this.rendered = '';
    /** participant's camera flag (from the server, or local state for the own tile) */
    this.videoFlag = kind === 'screen';
    /** its video is not received (another page, a low-bandwidth mode): the initials show */
    this.paused = false;

    this.el = document.createElement('div');
    this.el.className = `tile tile-${kind}`;
    this.el.setAttribute('role', 'group');
    this.el.dataset.participantId = participantId;
    this.el.dataset.kind = kind;
    if (self) this.el.dataset.self = 'true';

    this.video = document.createElement('video');
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = self;
    this.video.setAttribute('playsinline', '');
    if (self) this.video.setAttribute('muted', '');
    else applySpeaker(this.video);

    this.placeholder = document.createElement('div');
    this.placeholder.className = 'placeholder';
    this.placeholder.setAttribute('aria-hidden', 'true');

    this.caption = document.createElement('p');
    this.caption.className = 'caption';
    // The name first: "(you)" and the marks after it wrap below before a name is cut.
    const who = document.createElement('span');
    who.className = 'who';
    this.nameEl = document.createElement('span');
    this.nameEl.className = 'name';
    who.append(this.nameEl);
    if (self && kind === 'camera') {
      const you = document.createElement('span');
      you.className = 'you';
      you.textContent = t('tile.you');
      who.append(you);
    }
    this.caption.append(who);
    this.pin = document.createElement('span');
    this.pin.className = 'pin';
    this.pin.setAttribute('role', 'img');
    this.pin.setAttribute('aria-label', t('layout.pinned'));
    this.pin.title = t('layout.pinned');
    this.pin.hidden = true;
    this.caption.append(this.pin);
    this.micOff = document.createElement('span');
    this.micOff.className = 'mic-off';
    this.micOff.setAttribute('role', 'img');
    this.micOff.setAttribute('aria-label', t('tile.micOff'));
    this.micOff.title = t('tile.micOff');
    this.micOff.hidden = true;
    this.caption.append(this.micOff);
    this.badge = document.createElement('span');
    this.badge.className = 'badge';
    this.badge.textContent = t('tile.moderator');
    this.badge.hidden = true;
    this.caption.append(this.badge);
    // In an end-to-end encrypted meeting: this participant's device cannot encrypt.
    this.plainBadge = document.createElement('span');
    this.plainBadge.className = 'badge badge-plain';
    this.plainBadge.textContent = t('tile.plain');
    this.plainBadge.hidden = true;
    this.caption.append(this.plainBadge);
    // A raised hand: an icon and the hand's place in the queue, named for screen readers.
    this.hand = document.createElement('span');
    this.hand.className = 'hand';
    this.hand.setAttribute('role', 'img');
    this.hand.hidden = true;
    const handIcon = document.createElement('span');
    handIcon.className = 'icon icon-hand';
    this.handPosition = document.createElement('span');
    this.hand.append(handIcon, this.handPosition);
    /** @type {ActionMenu | null} moderator actions on this participant */
    this.menu = null;
    /** @type {(() => void) | null} follows the full screen state (screen tiles) */
    this.onFullScreen = null;

    this.el.append(this.video, this.placeholder, this.hand, this.caption);
    if (kind === 'screen' && document.fullscreenEnabled) this.addFullScreen();
    this.setName(name);
    this.setVideoOn(kind === 'screen');
  }

  /** @param {string} name @param {string} [label] the name as shown, e.g. "Anna (2)" */
  setName(name, label = name) {
    const key = `${name}\n${label}`;
    if (key === this.rendered) return;
    this.rendered = key;
    this.name = name;
    this.label = label;
    const text = this.kind === 'screen' ? t('tile.screen', { name: label }) : label;
    this.el.setAttribute('aria-label', text);
    this.nameEl.textContent = text;
    this.nameEl.title = text; // where a long name is cut
    this.placeholder.textContent = initials(name);
    this.menu?.setLabel(t('mod.more', { name: label }));
  }

  /** @param {boolean} on pinned by this user */
  setPinned(on) {
    this.pin.hidden = !on;
    this.el.classList.toggle('pinned', on);
  }

  /** @param {boolean} paused its video is not received */
  setPaused(paused) {
    if (paused === this.paused) return;
    this.paused = paused;
    this.el.dataset.paused = String(paused);
    this.updateVideo();
  }

  /** Viewers put a shared screen into full screen (the tile, so that its caption stays). */
  addFullScreen() {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'full-screen';
    button.setAttribute('aria-label', t('tile.fullScreen'));
    button.title = t('tile.fullScreen');
    button.setAttribute('aria-pressed', 'false');
    const icon = document.createElement('span');
    icon.className = 'icon icon-fullscreen';
    icon.setAttribute('aria-hidden', 'true');
    button.append(icon);
    button.addEventListener('click', () => {
      const action = document.fullscreenElement === this.el
        ? document.exitFullscreen() : this.el.requestFullscreen();
      action.catch((e) => console.info('rathaus: full screen refused', e instanceof Error ? e.name : e));
    });
    this.onFullScreen = () => button.setAttribute('aria-pressed', String(document.fullscreenElement === this.el));
    document.addEventListener('fullscreenchange', this.onFullScreen);
    this.el.append(button);
  }

  /** @param {boolean} on */
  setModerator(on) {
    this.badge.hidden = !on;
  }

  /** @param {boolean} on the participant's media is not end-to-end encrypted */
  setPlain(on) {
    this.plainBadge.hidden = !on;
  }

  /** @param {number | null} position the hand's place in the queue of raised hands; null: down */
  setHand(position) {
    this.hand.hidden = position === null;
    if (position === null) {
      delete this.el.dataset.hand;
      return;
    }
    const label = t('hands.raised', { position });
    this.hand.setAttribute('aria-label', label);
    this.hand.title = label;
    this.handPosition.textContent = String(position);
    this.el.dataset.hand = String(position);
  }

  /**
   * The actions on this participant (pin, and a moderator's): a "More actions for <name>"
   * button whose popup lists them (menu.js). null removes it.
   * @param {(() => TileAction[]) | null} actions
   */
  setActions(actions) {
    if (!actions) {
      this.menu?.remove();
      this.menu = null;
      return;
    }
    if (this.menu) return;
    this.menu = new ActionMenu(`tile-menu-${++menuCounter}`, actions);
    this.menu.setLabel(t('mod.more', { name: this.label }));
    this.menu.onToggle = (open) => this.el.classList.toggle('menu-open', open);
    this.el.append(this.menu.el);
  }

  /** @param {boolean} on */
  setAudioOn(on) {
    this.micOff.hidden = on;
    this.el.dataset.audio = String(on);
  }

  /** Shows the video, or the initials placeholder when the camera is off. @param {boolean} on */
  setVideoOn(on) {
    this.videoFlag = on;
    this.el.dataset.video = String(on);
    this.updateVideo();
  }

  /** Video shows only if the camera is on and a stream with a video track is attached. */
  updateVideo() {
    const stream = this.video.srcObject;
    const hasVideo = stream instanceof MediaStream && stream.getVideoTracks().length > 0;
    const visible = this.videoFlag && hasVideo && !this.paused;
    this.el.classList.toggle('video-off', !visible);
    this.placeholder.hidden = visible;
  }

  /** @param {boolean} talking */
  setTalking(talking) {
    this.el.classList.toggle('talking', talking);
    this.el.dataset.talking = String(talking);
  }

  /** @param {MediaStream | null} stream @param {string | null} [feedId] */
  setStream(stream, feedId = null) {
    this.feedId = feedId;
    if (feedId) this.el.dataset.feedId = feedId;
    else delete this.el.dataset.feedId;
    if (this.video.srcObject !== stream) this.video.srcObject = stream;
    if (stream) stream.onaddtrack = () => this.updateVideo();
    this.updateVideo();
    if (stream) {
      this.video.play().catch((e) => {
        // Autoplay with sound may be refused until the user interacts; the video element stays.
        console.debug('rathaus: play() refused', e instanceof Error ? e.name : e);
      });
    }
  }

  remove() {
    this.menu?.remove();
    if (this.onFullScreen) document.removeEventListener('fullscreenchange', this.onFullScreen);
    this.video.srcObject = null;
    this.el.remove();
  }
}
