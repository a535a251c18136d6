// The entries of "More" that change what one sees and receives — "Speaker view", "Audio only"
// and "Only the speaker's video" (toggles; the two low-bandwidth modes exclude each other) — and
// the notice that offers "audio only" once per meeting when the connection stays weak
// (bandwidth.js). The layout itself is layout-view.js's.

import { t } from './i18n.js';
import { BandwidthWatch } from './bandwidth.js';

/** @typedef {import('./layout.js').SavingMode} SavingMode */
/** @typedef {import('./media.js').MediaSession} MediaSession */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/**
 * @typedef {{
 *   meeting: import('./meeting.js').MeetingView,
 *   local: () => import('./local.js').LocalMedia | null,
 *   announce: (text: string, shown?: boolean) => void,
 * }} ViewParts
 */

export class ViewOptions {
  /** @param {ViewParts} parts */
  constructor(parts) {
    this.parts = parts;
    this.layout = parts.meeting.layout;
    this.speakerView = byId('speaker-view-button');
    this.audioOnly = byId('audio-only-button');
    this.speakerVideo = byId('speaker-video-button');
    this.notice = byId('weak-notice');
    this.indicator = byId('saving-indicator');
    this.indicatorText = byId('saving-text');
    this.speakerView.addEventListener('click', () => {
      this.layout.setMode(this.layout.mode === 'speaker' ? 'grid' : 'speaker');
    });
    this.audioOnly.addEventListener('click', () => this.setSaving(this.layout.saving === 'audio' ? 'off' : 'audio'));
    this.speakerVideo.addEventListener('click', () => this.setSaving(this.layout.saving === 'speaker' ? 'off' : 'speaker'));
    byId('weak-audio-only').addEventListener('click', () => {
      this.hideNotice();
      this.setSaving('audio');
    });
    byId('weak-dismiss').addEventListener('click', () => this.hideNotice());
    this.layout.onChange = () => this.update();
    this.layout.onPage = (text) => parts.announce(text);
    /** @type {BandwidthWatch | null} */
    this.watch = null;
    /** the weak-connection notice was shown in this meeting */
    this.offered = false;
    this.update();
  }

  update() {
    this.speakerView.setAttribute('aria-pressed', String(this.layout.mode === 'speaker'));
    this.audioOnly.setAttribute('aria-pressed', String(this.layout.saving === 'audio'));
    this.speakerVideo.setAttribute('aria-pressed', String(this.layout.saving === 'speaker'));
    const saving = this.layout.saving;
    this.indicator.hidden = saving === 'off';
    this.indicatorText.textContent = saving === 'off' ? '' : t(saving === 'audio' ? 'saving.audioOnly' : 'saving.speakerOnly');
  }

  /** @param {SavingMode} saving */
  async setSaving(saving) {
    this.layout.setSaving(saving);
    this.update();
    if (saving === 'audio') this.hideNotice();
    const local = this.parts.local();
    if (saving === 'audio' && local?.videoOn) {
      await local.setVideo(false);
      this.parts.announce(t('saving.audioCameraOff'), true);
    } else {
      this.parts.announce(t(saving === 'audio' ? 'saving.audio' : saving === 'speaker' ? 'saving.speaker' : 'saving.off'));
    }
  }

  /** Watches one participation's connection. @param {MediaSession} media @param {() => boolean} current */
  attach(media, current) {
    this.detach();
    this.offered = false;
    this.watch = new BandwidthWatch(() => media.peers(), () => current() && this.offer());
    this.watch.start();
  }

  detach() {
    this.watch?.stop();
    this.watch = null;
    this.hideNotice();
  }

  offer() {
    if (this.offered || this.layout.saving === 'audio') return;
    this.offered = true;
    this.notice.hidden = false;
    this.parts.announce(t('saving.weak'));
  }

  hideNotice() {
    const hadFocus = this.notice.contains(document.activeElement);
    this.notice.hidden = true;
    if (hadFocus) byId('meeting-heading').focus();
  }

  /** For the test hook. */
  snapshot() {
    return { estimate: this.watch?.last ?? null, offered: this.offered, notice: !this.notice.hidden };
  }
}
