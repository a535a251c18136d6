// One video tile: a participant's camera (in the grid) or a screen share (on the stage).
// Server-provided names are only ever set through textContent and attributes.

import { t } from './i18n.js';

/** Initials for the camera-off placeholder: first letters of the first two words.
 * @param {string} name @returns {string} */
export function initials(name) {
  const words = name.split(/\s+/u).map((w) => w.replace(/[^\p{L}\p{N}]/gu, '')).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => [...w][0] ?? '');
  return letters.join('').toLocaleUpperCase() || '?';
}

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
    /** participant's camera flag (from the server, or local state for the own tile) */
    this.videoFlag = kind === 'screen';

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

    this.placeholder = document.createElement('div');
    this.placeholder.className = 'placeholder';
    this.placeholder.setAttribute('aria-hidden', 'true');

    this.caption = document.createElement('p');
    this.caption.className = 'caption';
    this.nameEl = document.createElement('span');
    this.nameEl.className = 'name';
    this.caption.append(this.nameEl);
    if (self && kind === 'camera') {
      const you = document.createElement('span');
      you.className = 'you';
      you.textContent = ` ${t('tile.you')}`;
      this.caption.append(you);
    }
    this.micOff = document.createElement('span');
    this.micOff.className = 'mic-off';
    this.micOff.setAttribute('role', 'img');
    this.micOff.setAttribute('aria-label', t('tile.micOff'));
    this.micOff.title = t('tile.micOff');
    this.micOff.hidden = true;
    this.caption.append(this.micOff);

    this.el.append(this.video, this.placeholder, this.caption);
    this.setName(name);
    this.setVideoOn(kind === 'screen');
  }

  /** @param {string} name */
  setName(name) {
    this.name = name;
    const label = this.kind === 'screen' ? t('tile.screen', { name }) : name;
    this.el.setAttribute('aria-label', label);
    this.nameEl.textContent = label;
    this.placeholder.textContent = initials(name);
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
    const visible = this.videoFlag && hasVideo;
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
    this.video.srcObject = null;
    this.el.remove();
  }
}
