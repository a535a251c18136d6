// Entry point of room.html: picks the language, runs the pre-join → (lobby →) meeting → left
// screens, and wires Signaling (protocol.js) and MediaSession (media.js) to the views.

import { guestLinkToken, roomFromPath } from './address.js';
import { detectLanguage, errorText, setLanguage, t, translate } from './i18n.js';
import { msg } from './protocol.js';
import { Signaling, closeWarm, preconnect } from './signaling.js';
import { MediaSession } from './media.js';
import { PreJoin } from './prejoin.js';
import { MeetingView } from './meeting.js';
import { LocalMedia } from './local.js';
import { SignIn } from './signin.js';
import { pageState } from './session.js';
import { LobbyPanel, LobbyView } from './lobby.js';
import { ConfirmDialog, ModalPanel } from './dialog.js';
import { ModeratorControls } from './moderator.js';
import { HandsControl } from './hands.js';
import { DevicesDialog } from './devices-dialog.js';
import { installShortcuts } from './shortcuts.js';
import { chime, setSounds, soundsOn } from './sounds.js';
import { ReactionsControl } from './reactions.js';
import { MeetingEncryption } from './encryption.js';
import { EncryptionView, e2eeText } from './e2ee-view.js';
import { MeetingInfo } from './meeting-info.js';
import { ViewOptions } from './view-options.js';
import { Announcer } from './announcer.js';
import { installHook } from './testhook.js';
import { defaultDeviceStore, loadOrCreateDevice } from './e2ee/device.js';
import { E2eeTransforms } from './e2ee/transforms.js';
import { installChatToggle, startChat } from './chat/page.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./i18n.js').MessageKey} MessageKey */
/** @typedef {'prejoin' | 'lobby' | 'meeting' | 'left'} Screen */
/** @typedef {import('./e2ee/device.js').Device} Device */
/** @typedef {import('./encryption.js').EncryptionState} EncryptionState */

/** This browser's E2EE device, loaded (or created) while the pre-join screen shows; null where
 * WebCrypto cannot do it (then `join` carries no device, and E2EE meetings refuse it).
 * @returns {Promise<Device | null>} */
async function loadDevice() {
  try {
    return await loadOrCreateDevice(defaultDeviceStore());
  } catch (e) {
    console.warn('rathaus: e2ee: no device keys in this browser:', e);
    return null;
  }
}

/** Errors shown in the meeting; the others are handled where they arise or only logged. */
const SHOWN_ERRORS = new Set([
  'media_failed', 'rate_limited', 'internal', 'too_large', 'bad_message', 'forbidden',
  'unknown_participant',
]);

/** Why the server ended our participation: [text, heading] of the left screen. */
/** @type {Record<string, [MessageKey, MessageKey]>} */
const ENDINGS = {
  bye_replaced: ['left.replaced', 'left.heading'],
  bye_removed: ['left.removed', 'left.headingOut'],
  bye_ended: ['left.ended', 'left.headingOut'],
  bye_denied: ['left.denied', 'left.headingDenied'],
};

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

export class App {
  constructor() {
    setLanguage(detectLanguage(location.search, navigator.languages ?? [navigator.language]));
    translate(document);
    this.announcer = new Announcer();
    // Where the focus goes when a dialog's opener has gone meanwhile.
    const fallback = () => (this.screen === 'meeting' ? byId('meeting-heading') : null);
    this.info = new MeetingInfo(fallback);
    this.e2eeView = new EncryptionView((text) => this.announce(text, { transient: true }), fallback);
    this.room = roomFromPath();
    this.showRoomName(this.room);
    preconnect(Signaling.urlFor(this.room));

    this.leftEl = byId('left');
    this.leftHeading = byId('left-heading');
    this.leftReason = byId('left-reason');
    this.prejoin = new PreJoin();
    this.signIn = new SignIn();
    this.loadRoomName();
    this.lobby = new LobbyView();
    this.lobbyPanel = new LobbyPanel();
    this.dialog = new ConfirmDialog();
    this.meeting = new MeetingView();
    /** @type {Map<string, string>} names of everyone seen in this meeting (for announcements) */
    this.names = new Map();
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
    this.device = loadDevice();
    /** @type {E2eeTransforms | null} one per page, created when a meeting needs it */
    this.transforms = null;
    /** @type {MeetingEncryption | null} */
    this.encryption = null;

    this.prejoin.onJoin = (name, stream) => this.join(name, stream);
    this.signIn.onReady = (session) => {
      if (session) this.prejoin.prefillName(session.user.display_name);
    };
    this.signIn.onChange = (session) => {
      if (session) this.prejoin.prefillName(session.user.display_name);
      this.announce(session ? t('signin.signedIn', { name: session.user.display_name }) : t('signin.signedOut'), { transient: true });
      // The socket must be opened after the cookie changed for the server to see it.
      closeWarm();
      preconnect(Signaling.urlFor(this.room));
    };
    this.signIn.load();
    this.meeting.onToggle((name, pressed) => this.toggle(name, pressed));
    this.meeting.onLeave(() => this.leave());
    this.lobby.onLeave(() => this.leave());
    /** @type {import('./hands.js').MeetingParts} */
    const parts = {
      meeting: this.meeting, send: (m) => { this.signaling?.send(m); }, selfId: () => this.self?.id ?? null,
      nameOf: (id) => this.names.get(id) ?? t('action.someone'),
      announce: (text, shown = false) => this.announce(text, { transient: true, shown }),
    };
    this.hands = new HandsControl(parts);
    this.reactions = new ReactionsControl(parts);
    this.moderatorControls = new ModeratorControls({
      meeting: this.meeting,
      lobbyPanel: this.lobbyPanel,
      dialog: this.dialog,
      send: (m) => { this.signaling?.send(m); },
      participant: (id) => this.participants.get(id),
      handRaised: (id) => this.hands.isRaised(id),
      selfId: parts.selfId,
      names: this.names,
      announce: parts.announce,
    });
    this.viewOptions = new ViewOptions({ meeting: this.meeting, local: () => this.local, announce: parts.announce });
    this.meeting.showToggle('screen', !!navigator.mediaDevices?.getDisplayMedia);
    this.meeting.more.infoButton.addEventListener('click', () => this.info.open());
    this.meeting.more.e2eeButton.addEventListener('click', () => this.e2eeView.open());
    this.devices = new DevicesDialog(() => this.local, fallback);
    byId('devices-button').addEventListener('click', () => this.devices.open());
    this.shortcutsHelp = new ModalPanel('shortcuts-dialog', fallback);
    byId('shortcuts-button').addEventListener('click', () => this.shortcutsHelp.show());
    const sounds = byId('sounds-button');
    sounds.setAttribute('aria-pressed', String(soundsOn()));
    sounds.addEventListener('click', () => {
      setSounds(!soundsOn());
      sounds.setAttribute('aria-pressed', String(soundsOn()));
    });
    installShortcuts(
      () => this.screen === 'meeting' && !document.querySelector('dialog[open]'),
      (action) => this.shortcut(action),
    );
    byId('rejoin-button').addEventListener('click', () => this.rejoin());
    installHook(this);
  }

  start() {
    this.show('prejoin');
    this.prejoin.show();
    startChat(this.room, byId('chat-panel')).then((client) => {
      if (client) installChatToggle();
    });
  }

  /** @param {Screen} screen */
  show(screen) {
    this.screen = screen;
    this.prejoin.root.hidden = screen !== 'prejoin';
    this.lobby.root.hidden = screen !== 'lobby';
    this.meeting.root.hidden = screen !== 'meeting';
    this.leftEl.hidden = screen !== 'left';
    document.body.dataset.screen = screen;
  }

  /** Announces a status (announcer.js: transient ones clear themselves; shown ones are seen too).
   * @param {string | null} text @param {{transient?: boolean, shown?: boolean}} [how] */
  announce(text, how) {
    this.announcer.say(text, how);
  }

  // -- joining -------------------------------------------------------------------------------------

  /** @param {string} name @param {MediaStream | null} stream */
  join(name, stream) {
    this.device.then((device) => this.joinWith(name, stream, device));
  }

  /** The page's E2eeTransforms (null where the browser cannot encrypt). @returns {E2eeTransforms | null} */
  pageTransforms() {
    if (!this.transforms && E2eeTransforms.supported()) {
      try {
        this.transforms = new E2eeTransforms();
      } catch (e) {
        console.error('rathaus: e2ee: no media encryption:', e);
      }
    }
    return this.transforms;
  }

  /** @param {string} name @param {MediaStream | null} stream @param {Device | null} device */
  joinWith(name, stream, device) {
    const publicDevice = device ? { ...device.publicInfo, e2ee: E2eeTransforms.supported() } : null;
    const signaling = new Signaling(Signaling.urlFor(this.room), name, {
      password: this.prejoin.password(),
      invite: guestLinkToken(),
      device: publicDevice,
    });
    this.encryption?.close();
    const encryption = new MeetingEncryption({
      signaling,
      device,
      transforms: () => this.pageTransforms(),
      onChange: (state) => this.encryption === encryption && this.e2eeView.show(state, this.screen === 'meeting'),
      ownerOf: (transformId) => media.receiverOwners.get(transformId),
    });
    this.encryption = encryption;
    this.e2eeView.reset();
    /** @type {MediaSession} */
    const media = new MediaSession(signaling, { transformsFor: (m) => encryption.welcome(m) });
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
    this.names.clear();
    this.self = null;
    this.meeting.reset();
    this.lobbyPanel.clear();

    const current = () => this.signaling === signaling;
    signaling.onStatus((d) => current() && this.onStatus(d.status, d.resumed ?? false, d.code, d.lobby));
    signaling.on('welcome', (m) => {
      if (!current()) return;
      this.self = m.self;
      this.info.sync(m.running_for);
      this.names.set(m.self.id, m.self.name);
      this.meeting.setAllowPlain(m.e2ee_required, m.e2ee.allow_unencrypted);
      this.syncParticipants(m.participants);
      this.meeting.setSelf({ ...m.self, audio: local.audioOn, video: local.videoOn }, local.stream);
      this.sendMediaState();
    });
    this.moderatorControls.attach(signaling, current);
    // What a moderator switched off: the user must see that too.
    const shown = { transient: true, shown: true };
    signaling.on('muted', async () => {
      if (!current()) return;
      await local.setAudio(false);
      this.announce(t('you.muted'), shown);
    });
    signaling.on('video_stopped', async () => {
      if (!current()) return;
      await local.setVideo(false);
      this.announce(t('you.videoStopped'), shown);
    });
    signaling.on('screen_stopped', async () => {
      if (!current()) return;
      await local.setScreen(false);
      this.meeting.setToggle('screen', false);
      this.announce(t('you.screenStopped'), shown);
    });
    signaling.on('participant_joined', (m) => {
      if (!current()) return;
      this.upsert(m.participant);
      this.announcer.roll(t('people.joined', { name: m.participant.name }));
      chime('join');
    });
    signaling.on('participant_updated', (m) => current() && this.upsert(m.participant));
    signaling.on('participant_left', (m) => {
      if (!current()) return;
      const name = this.participants.get(m.id)?.name;
      this.participants.delete(m.id);
      this.meeting.removeParticipant(m.id);
      if (name) this.announcer.roll(t('people.left', { name }));
      if (name) chime('leave');
    });
    signaling.on('talking', (m) => current() && this.meeting.setTalking(m.participant, m.talking));
    signaling.on('error', (m) => {
      // (too many reactions: reactions.js says so briefly)
      if (current() && this.screen === 'meeting' && SHOWN_ERRORS.has(m.code) && m.ref !== 'react') {
        this.meeting.setNotice(errorText(m.code));
      }
    });
    this.hands.attach(signaling, current);
    this.reactions.attach(signaling, current);
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
      if (!available) this.announce(t('status.mediaUnavailable')); // the notice shows it
      else if (wasUnavailable) this.announce(t('status.mediaRestored'), { transient: true });
    });
    media.addEventListener('failure', () => current() && this.meeting.setNotice(t('notice.mediaFailed')));
    this.meeting.onTileWidth = (feedId, width) => current() && media.setTileWidth(feedId, width);
    this.meeting.layout.onVideoWanted = (feedId, on) => current() && media.setVideoWanted(feedId, on);
    this.viewOptions.attach(media, current);
    local.onChange = () => current() && this.localChanged();
    local.onScreenEnded = () => current() && this.meeting.setToggle('screen', false);

    this.announce(t('status.connecting'), { shown: true });
    signaling.connect();
  }

  /**
   * @param {import('./signaling.js').SignalingStatus} status @param {boolean} resumed
   * @param {string} [code] @param {import('./protocol.js').LobbyStatus} [lobby]
   */
  onStatus(status, resumed, code, lobby) {
    if (status === 'waiting') {
      if (this.screen !== 'lobby') {
        // In the lobby: the preview stays local; nothing is published or received.
        this.prejoin.hide();
        this.show('lobby');
        this.lobby.setStatus(lobby ?? 'waiting');
        this.lobby.show(this.prejoin.stream);
      } else {
        this.lobby.setStatus(lobby ?? 'waiting');
      }
      this.announce(null);
    } else if (status === 'joined') {
      if (this.screen !== 'meeting') {
        this.prejoin.takeStream();
        this.prejoin.hide();
        this.lobby.hide();
        this.show('meeting');
        this.updateToggles();
        this.info.start();
        this.announce(null);
        if (this.encryption?.on) this.announce(e2eeText(this.encryption.state.encrypted), { transient: true });
        byId('meeting-heading').focus?.();
      } else {
        this.announce(t('status.reconnected'), { transient: true });
      }
      if (!resumed) console.info('rathaus: joined as a new participant');
    } else if (status === 'reconnecting') {
      this.announce(t('status.reconnecting'), { shown: true });
    } else if (status === 'closed') {
      const ending = code ? ENDINGS[code] : undefined;
      if (ending && this.screen !== 'left') {
        this.announce(null);
        this.ended(...ending);
      } else if (this.screen === 'prejoin' || (this.screen === 'lobby' && code !== 'left')) {
        // The preview stream stays with the pre-join screen; only drop the session objects.
        this.media?.close();
        this.local = null;
        this.announce(null);
        this.lobby.hide();
        if (this.screen !== 'prejoin') {
          this.show('prejoin');
          this.prejoin.restore();
        }
        this.prejoin.setBusy(false);
        this.refused(code);
      } else if (this.screen === 'meeting' && code !== 'left') {
        this.announce(t('status.connectionLost'), { shown: true });
        this.ended('left.disconnected', 'left.headingOut');
      }
    }
  }

  /** The join was refused or failed: say why on the pre-join screen. @param {string} [code] */
  refused(code) {
    if (!code || code.startsWith('close_') || code.startsWith('bye_') || code === 'left') {
      this.prejoin.showError(t('error.connection'), null);
      return;
    }
    const text = errorText(code);
    if (code === 'password_required' || code === 'wrong_password' || code === 'locked') {
      this.prejoin.askPassword();
      this.prejoin.showError(text, 'password');
    } else {
      this.prejoin.showError(text, code === 'invalid_name' ? 'name' : null);
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
    this.names.set(p.id, p.name);
    if (this.self && p.id === this.self.id) {
      this.self = p;
      this.moderatorControls.setRole(p.role, true);
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

  /** @param {import('./shortcuts.js').ShortcutAction} action */
  shortcut(action) {
    const local = this.local;
    if (action === 'help') this.shortcutsHelp.show();
    else if (action === 'hand') this.hands.button.click();
    else if (local && action === 'mic') this.toggle('mic', !local.audioOn);
    else if (local && action === 'camera') this.toggle('camera', !local.videoOn);
  }

  updateToggles() {
    const local = this.local;
    if (!local) return;
    this.meeting.setToggle('mic', local.audioOn, local.canAudio);
    this.meeting.setToggle('camera', local.videoOn, local.canVideo);
    this.meeting.setToggle('screen', local.screenOn);
    this.meeting.presenter.show(local.screen);
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
    this.encryption?.close();
    this.media?.close();
    this.local?.dispose();
    this.closeMeetingViews();
    this.prejoin.takeStream(); // stopped with the local media (or already handed over)
    this.show('left');
    this.leftHeading.textContent = t('left.heading');
    this.leftReason.hidden = true;
    this.announce(null);
    byId('rejoin-button').focus();
    this.meeting.reset();
    this.lobbyPanel.clear();
    this.lobby.hide();
    await signaling?.leave();
  }

  /** The server ended our participation (or did not let us in).
   * @param {MessageKey} reason @param {MessageKey} heading */
  ended(reason, heading) {
    this.encryption?.close();
    this.media?.close();
    this.local?.dispose();
    if (this.screen === 'lobby' || this.screen === 'prejoin') this.prejoin.hide();
    this.prejoin.takeStream(); // stopped with the local media (or already handed over)
    this.closeMeetingViews();
    this.signaling?.close('left');
    this.meeting.reset();
    this.lobbyPanel.clear();
    this.lobby.hide();
    this.show('left');
    this.leftHeading.textContent = t(heading);
    this.leftReason.textContent = t(reason);
    this.leftReason.hidden = false;
    this.leftHeading.setAttribute('tabindex', '-1');
    this.leftHeading.focus();
  }

  /** The dialogs and the clock of a participation that ended. */
  closeMeetingViews() {
    this.dialog.close();
    this.devices.close();
    this.shortcutsHelp.close();
    this.viewOptions.detach();
    this.info.stop();
    this.e2eeView.reset();
  }

  rejoin() {
    this.signaling = null;
    this.show('prejoin');
    this.prejoin.show().then(() => this.prejoin.submit());
  }

  // -- the room ------------------------------------------------------------------------------------

  /** @param {string} name */
  showRoomName(name) {
    document.title = t('page.title', { room: name, brand: pageState().brand.name });
    byId('room-name').textContent = t('prejoin.room', { room: name });
    this.info.setRoom(name, `${location.origin}/r/${encodeURIComponent(this.room)}`);
  }

  /** The room's display name, e.g. "Bezirksausschuss Süd" for /r/bezirksausschuss-sued, and its
   * password field up front when it has one (both from the page's starting state). */
  loadRoomName() {
    const room = pageState().room;
    if (!room) return;
    this.showRoomName(room.name);
    if (room.has_password) this.prejoin.askPassword(false);
  }
}

new App().start();
