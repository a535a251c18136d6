// Entry point of room.html: picks the language, runs the pre-join → meeting → left screens,
// and wires Signaling (protocol.js) and MediaSession (media.js) to the views.

import { detectLanguage, errorText, setLanguage, t, translate, language } from './i18n.js';
import { Signaling, msg, preconnect } from './protocol.js';
import { MediaSession } from './media.js';
import { PreJoin } from './prejoin.js';
import { MeetingView } from './meeting.js';
import { LocalMedia } from './local.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {'prejoin' | 'meeting' | 'left'} Screen */

/** Errors shown in the meeting; the others are handled where they arise or only logged. */
const SHOWN_ERRORS = new Set(['media_failed', 'rate_limited', 'internal', 'too_large', 'bad_message']);

/** The room id from /r/<room>. @returns {string} */
function roomFromPath() {
  const match = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
  const raw = match ? match[1] : location.pathname.split('/').filter(Boolean).pop() ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

class App {
  constructor() {
    setLanguage(detectLanguage(location.search, navigator.languages ?? [navigator.language]));
    translate(document);
    this.room = roomFromPath();
    this.showRoomName(this.room);
    this.loadRoomName();
    preconnect(Signaling.urlFor(this.room));

    this.statusEl = byId('status');
    this.leftEl = byId('left');
    this.leftReason = byId('left-reason');
    this.prejoin = new PreJoin();
    this.meeting = new MeetingView();
    /** @type {Screen} */
    this.screen = 'prejoin';
    /** @type {Signaling | null} */
    this.signaling = null;
    /** @type {MediaSession | null} */
    this.media = null;
    /** @type {LocalMedia | null} */
    this.local = null;
    /** @type {Map<string, Participant>} remote participants */
    this.participants = new Map();
    /** @type {Participant | null} */
    this.self = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.statusTimer = null;

    this.prejoin.onJoin = (name, stream) => this.join(name, stream);
    this.meeting.onToggle((name, pressed) => this.toggle(name, pressed));
    this.meeting.onLeave(() => this.leave());
    this.meeting.showToggle('screen', !!navigator.mediaDevices?.getDisplayMedia);
    byId('rejoin-button').addEventListener('click', () => this.rejoin());
    this.installHook();
  }

  start() {
    this.show('prejoin');
    this.prejoin.show();
  }

  /** @param {Screen} screen */
  show(screen) {
    this.screen = screen;
    this.prejoin.root.hidden = screen !== 'prejoin';
    this.meeting.root.hidden = screen !== 'meeting';
    this.leftEl.hidden = screen !== 'left';
    document.body.dataset.screen = screen;
  }

  /** Announces a status in the live region; transient ones clear themselves.
   * @param {string | null} text @param {boolean} [transient] */
  announce(text, transient = false) {
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
    this.statusEl.textContent = text ?? '';
    if (text && transient) this.statusTimer = setTimeout(() => this.announce(null), 6000);
  }

  // -- joining -------------------------------------------------------------------------------------

  /** @param {string} name @param {MediaStream | null} stream */
  join(name, stream) {
    const signaling = new Signaling(Signaling.urlFor(this.room), name);
    const media = new MediaSession(signaling);
    const devices = {
      camera: this.prejoin.cameraSelect.options.length > 1,
      mic: this.prejoin.micSelect.options.length > 1,
    };
    const local = new LocalMedia(
      stream, media, this.prejoin.cameraSelect.value, this.prejoin.micSelect.value, devices);
    this.signaling = signaling;
    this.media = media;
    this.local = local;
    this.participants.clear();
    this.self = null;
    this.meeting.reset();

    const current = () => this.signaling === signaling;
    signaling.onStatus((d) => current() && this.onStatus(d.status, d.resumed ?? false, d.code));
    signaling.on('welcome', (m) => {
      if (!current()) return;
      this.self = m.self;
      this.syncParticipants(m.participants);
      this.meeting.setSelf({ ...m.self, audio: local.audioOn, video: local.videoOn }, local.stream);
      this.sendMediaState();
    });
    signaling.on('participant_joined', (m) => current() && this.upsert(m.participant));
    signaling.on('participant_updated', (m) => current() && this.upsert(m.participant));
    signaling.on('participant_left', (m) => {
      if (!current()) return;
      this.participants.delete(m.id);
      this.meeting.removeParticipant(m.id);
    });
    signaling.on('talking', (m) => current() && this.meeting.setTalking(m.participant, m.talking));
    signaling.on('bye', (m) => current() && m.reason === 'replaced' && this.ended('left.replaced'));
    signaling.on('error', (m) => {
      if (current() && this.screen === 'meeting' && SHOWN_ERRORS.has(m.code)) {
        this.meeting.setNotice(errorText(m.code));
      }
    });
    media.addEventListener('stream', (e) => {
      const { feed, stream: remote } = /** @type {CustomEvent} */ (e).detail;
      if (current()) this.meeting.attachFeed(feed, remote);
    });
    media.addEventListener('feedclosed', (e) => {
      if (current()) this.meeting.detachFeed(/** @type {CustomEvent} */ (e).detail.feed.id);
    });
    media.addEventListener('availability', (e) => {
      if (!current()) return;
      const { available } = /** @type {CustomEvent} */ (e).detail;
      const wasUnavailable = this.meeting.notice.dataset.kind === 'unavailable';
      this.meeting.setNotice(available ? null : t('notice.mediaUnavailable'));
      this.meeting.notice.dataset.kind = available ? '' : 'unavailable';
      if (!available) this.announce(t('status.mediaUnavailable'));
      else if (wasUnavailable) this.announce(t('status.mediaRestored'), true);
    });
    media.addEventListener('failure', () => current() && this.meeting.setNotice(t('notice.mediaFailed')));
    this.meeting.onTileWidth = (feedId, width) => current() && media.setTileWidth(feedId, width);
    local.onChange = () => current() && this.localChanged();
    local.onScreenEnded = () => current() && this.meeting.setToggle('screen', false);

    this.announce(t('status.connecting'));
    signaling.connect();
  }

  /**
   * @param {import('./protocol.js').SignalingStatus} status @param {boolean} resumed
   * @param {string} [code]
   */
  onStatus(status, resumed, code) {
    if (status === 'joined') {
      if (this.screen !== 'meeting') {
        this.prejoin.takeStream();
        this.prejoin.hide();
        this.show('meeting');
        this.updateToggles();
        this.announce(null);
        byId('meeting-heading').focus?.();
      } else {
        this.announce(t('status.reconnected'), true);
      }
      if (!resumed) console.info('rathaus: joined as a new participant');
    } else if (status === 'reconnecting') {
      this.announce(t('status.reconnecting'));
    } else if (status === 'closed') {
      if (this.screen === 'prejoin') {
        // The preview stream stays with the pre-join screen; only drop the session objects.
        this.media?.close();
        this.local = null;
        this.announce(null);
        this.prejoin.setBusy(false);
        this.prejoin.showError(code && !code.startsWith('close_') ? errorText(code) : t('error.connection'));
      } else if (this.screen === 'meeting' && code !== 'left') {
        this.announce(t('status.connectionLost'));
        this.ended(code === 'bye_replaced' ? 'left.replaced' : 'left.disconnected');
      }
    }
  }

  /** @param {Participant[]} list */
  syncParticipants(list) {
    const ids = new Set(list.map((p) => p.id));
    for (const id of [...this.participants.keys()]) {
      if (!ids.has(id)) {
        this.participants.delete(id);
        this.meeting.removeParticipant(id);
      }
    }
    for (const p of list) this.upsert(p);
  }

  /** @param {Participant} p */
  upsert(p) {
    if (this.self && p.id === this.self.id) {
      this.self = p;
      const local = this.local;
      this.meeting.upsert({ ...p, audio: !!local?.audioOn, video: !!local?.videoOn }, true);
      return;
    }
    this.participants.set(p.id, p);
    this.meeting.upsert(p);
  }

  // -- local controls ----------------------------------------------------------------------------

  /** @param {import('./meeting.js').ToggleName} name @param {boolean} on */
  async toggle(name, on) {
    const local = this.local;
    if (!local) return;
    if (name === 'mic') await local.setAudio(on);
    else if (name === 'camera') {
      if (!(await local.setVideo(on))) this.meeting.setNotice(t('notice.cameraFailed'));
    } else if (!(await local.setScreen(on)) && on) {
      this.meeting.setNotice(t('notice.screenFailed'));
    }
  }

  updateToggles() {
    const local = this.local;
    if (!local) return;
    this.meeting.setToggle('mic', local.audioOn, local.canAudio);
    this.meeting.setToggle('camera', local.videoOn, local.canVideo);
    this.meeting.setToggle('screen', local.screenOn);
  }

  localChanged() {
    const local = this.local;
    if (!local) return;
    this.updateToggles();
    if (this.self) {
      this.meeting.setSelf({ ...this.self, audio: local.audioOn, video: local.videoOn }, local.stream);
    }
    this.sendMediaState();
  }

  sendMediaState() {
    const local = this.local;
    if (local && this.signaling?.status === 'joined') {
      this.signaling.send(msg.media(local.audioOn, local.videoOn));
    }
  }

  // -- leaving -----------------------------------------------------------------------------------

  async leave() {
    const signaling = this.signaling;
    this.media?.close();
    this.local?.dispose();
    this.show('left');
    this.leftReason.hidden = true;
    this.announce(null);
    byId('rejoin-button').focus();
    this.meeting.reset();
    await signaling?.leave();
  }

  /** The server ended our participation. @param {'left.replaced' | 'left.disconnected'} reason */
  ended(reason) {
    this.media?.close();
    this.local?.dispose();
    this.signaling?.close('left');
    this.meeting.reset();
    this.show('left');
    this.leftReason.textContent = t(reason);
    this.leftReason.hidden = false;
  }

  rejoin() {
    this.signaling = null;
    this.show('prejoin');
    this.prejoin.show().then(() => this.prejoin.submit());
  }

  // -- test hook ---------------------------------------------------------------------------------

  /** @param {string} name */
  showRoomName(name) {
    document.title = t('page.title', { room: name });
    byId('room-name').textContent = t('prejoin.room', { room: name });
  }

  /** The room's display name, e.g. "Bezirksausschuss Süd" for /r/bezirksausschuss-sued. */
  async loadRoomName() {
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.room)}`);
      if (!response.ok) return;
      const body = await response.json();
      if (body && typeof body.name === 'string') this.showRoomName(body.name);
    } catch {
      // the link name stays shown
    }
  }

  installHook() {
    const app = this;
    Object.defineProperty(window, 'rathaus', {
      value: Object.freeze({
        state() {
          const media = app.media?.snapshot();
          return {
            room: app.room,
            language: language(),
            screen: app.screen,
            joined: app.signaling?.status === 'joined' && app.screen === 'meeting',
            connection: app.signaling?.status ?? 'idle',
            participantId: app.self?.id ?? null,
            name: app.self?.name ?? null,
            audio: app.local?.audioOn ?? false,
            video: app.local?.videoOn ?? false,
            screenSharing: app.local?.screenOn ?? false,
            mediaAvailable: media?.available ?? null,
            iceRestarts: media?.iceRestarts ?? 0,
            participants: [...app.participants.values()].map((p) => ({ ...p })),
            publishing: media?.publishing ?? {},
            subscriptions: media?.subscriptions ?? [],
            subscribedFeeds: (media?.subscriptions ?? []).map((s) => s.feed),
            tiles: app.meeting.snapshot().tiles,
          };
        },
      }),
      configurable: false,
      writable: false,
    });
  }
}

new App().start();
