// "Meeting info": the room's name, its link with "Copy link", and how long one has been in the
// meeting (counted from joining: the server does not say when the meeting began). The same
// duration shows, quietly, in the meeting's top bar.

import { t } from './i18n.js';
import { copyText } from './dom.js';
import { ModalPanel } from './dialog.js';

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** "4:05", "1:02:09". @param {number} seconds @returns {string} */
export function clockText(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  const [h, m] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60)];
  return h ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** ISO 8601 duration for <time datetime>. @param {number} seconds @returns {string} */
function isoDuration(seconds) {
  return `PT${Math.max(0, Math.floor(seconds))}S`;
}

export class MeetingInfo {
  /** @param {() => HTMLElement | null} fallback where the focus goes when the opener went */
  constructor(fallback) {
    this.panel = new ModalPanel('info-dialog', fallback);
    this.room = byId('info-room');
    this.link = byId('info-link');
    this.copyButton = /** @type {HTMLButtonElement} */ (byId('copy-link-button'));
    this.copyStatus = byId('copy-status');
    this.clocks = [byId('meeting-clock'), byId('info-duration')];
    /** @type {number | null} when the meeting began, on this page's clock (Date.now()) */
    this.since = null;
    /** seconds the meeting had been running at our `welcome` */
    this.age = 0;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    this.roomName = '';
    this.roomLink = '';
    // Filled while open only: the page shows the room's name once (in its header).
    this.panel.dialog.addEventListener('close', () => {
      this.room.textContent = '';
      this.link.textContent = '';
    });
    this.copyButton.addEventListener('click', async () => {
      const copied = await copyText(this.roomLink);
      this.copyStatus.textContent = t(copied ? 'home.copied' : 'home.copyFailed');
    });
  }

  /** @param {string} name the room's display name @param {string} link */
  setRoom(name, link) {
    this.roomName = name;
    this.roomLink = link;
  }

  open() {
    this.room.textContent = this.roomName;
    this.link.textContent = this.roomLink;
    this.copyStatus.textContent = '';
    this.tick();
    this.panel.show(this.copyButton);
  }

  /** How long the meeting has been running, as `welcome` says (the same for everyone).
   * @param {number} seconds */
  sync(seconds) {
    this.age = seconds;
    if (this.since !== null) this.since = Date.now() - seconds * 1000;
    this.tick();
  }

  /** Starts counting (once per participation: a resumed connection goes on counting). */
  start() {
    if (this.since !== null) return;
    this.since = Date.now() - this.age * 1000;
    this.tick();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
    this.since = null;
    this.age = 0;
    this.panel.close();
    this.tick();
  }

  tick() {
    const seconds = this.since === null ? 0 : (Date.now() - this.since) / 1000;
    for (const clock of this.clocks) {
      clock.textContent = clockText(seconds);
      clock.setAttribute('datetime', isoDuration(seconds));
    }
  }
}
