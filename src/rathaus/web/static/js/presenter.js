// While one shares one's screen: "You are sharing your screen", a small preview of it (one's own
// screen share is never sent back as a tile) and "Stop sharing".

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

export class PresenterBar {
  constructor() {
    this.root = byId('presenter');
    this.video = /** @type {HTMLVideoElement} */ (byId('presenter-video'));
    this.stopButton = /** @type {HTMLButtonElement} */ (byId('stop-sharing-button'));
    /** @type {MediaStreamTrack | null} */
    this.track = null;
    /** @type {() => void} */
    this.onStop = () => {};
    this.stopButton.addEventListener('click', () => this.onStop());
  }

  /** @param {MediaStreamTrack | null} track the screen being shared, or null */
  show(track) {
    const live = track && track.readyState === 'live' ? track : null;
    if (live === this.track) return;
    const hadFocus = this.root.contains(document.activeElement);
    this.track = live;
    this.root.hidden = !live;
    this.video.srcObject = live ? new MediaStream([live]) : null;
    if (live) this.video.play().catch(() => undefined); // muted: autoplay is allowed
    if (hadFocus && !live) byId('screen-button').focus();
  }

  /** Read-only view for the test hook. */
  snapshot() {
    return { sharing: !!this.track };
  }
}
