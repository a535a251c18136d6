// End-to-end encryption of one meeting participation: wires the Keyring (e2ee/keyring.js) to the
// signaling messages and the E2eeTransforms (e2ee/transforms.js) that media.js attaches to every
// RTCRtpSender and RTCRtpReceiver. No DOM: app.js shows what `onChange` reports.
//
// E2EE is on for a meeting when the server requires it (`welcome.e2ee_required`); then this
// browser encrypts its media and decrypts everybody else's. Key distribution goes through the
// KeyDistribution interface of keyring.js only: joiners get current keys (`participant_joined`,
// `welcome.participants`), a leaver makes everyone rotate (leaves within LEAVE_BURST_MS, once),
// and keys rotate every 15 minutes.
//
// A mixed meeting: a moderator may let in a participant who cannot encrypt. While one is present
// (by the server's `e2ee_state`, or by a participant's device as this browser sees it), the meeting
// is not end-to-end encrypted: the transforms switch to plain mode (worker.js) so that participant
// sees and hears the others, and every page shows "Not end-to-end encrypted".
//
// The stall watch: a video receiver that drops frames and decrypts none for STALL_SECONDS asks for
// a keyframe and, when it lacks the right key, asks the sender for its key again (`key_request`).

import { msg } from './protocol.js';
import { Keyring, ROTATION_INTERVAL_MS, peerFromParticipant } from './e2ee/keyring.js';
import { EnvelopeError } from './e2ee/envelope.js';
import { safetyCode } from './e2ee/safety.js';

/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').E2eeState} E2eeState */
/** @typedef {import('./protocol.js').WelcomeMessage} WelcomeMessage */
/** @typedef {import('./signaling.js').Signaling} Signaling */
/** @typedef {import('./e2ee/device.js').Device} Device */
/** @typedef {import('./e2ee/transforms.js').E2eeTransforms} E2eeTransforms */
/** @typedef {import('./e2ee/safety.js').SafetyCode} SafetyCode */
/** @typedef {import('./e2ee/worker.js').Stats} Stats */
/** @typedef {import('./e2ee/keyring.js').OutgoingEnvelope} OutgoingEnvelope */

const STATS_INTERVAL_MS = 1000;
/** Polls (seconds) of drops without a decrypted frame after which a video receiver has stalled. */
const STALL_SECONDS = 2;
/** At most one `key_request` to a participant this often. */
const KEY_REQUEST_INTERVAL_MS = 5000;
/** Leaves within this time of the first make one rotation (everyone leaving at a meeting's end). */
const LEAVE_BURST_MS = 500;

/**
 * What the UI and the test hook see.
 * @typedef {object} EncryptionState
 * @property {boolean} on this browser encrypts and decrypts this meeting's media
 * @property {boolean} encrypted the meeting is end-to-end encrypted: on, and every participant's
 *   device encrypts (by the server's `e2ee_state` and by the participants' devices)
 * @property {SafetyCode | null} safetyCode from own and all participants' device keys
 */

export class MeetingEncryption {
  /**
   * @param {object} options
   * @param {Signaling} options.signaling
   * @param {Device | null} options.device this browser's device (null: it cannot encrypt)
   * @param {() => E2eeTransforms | null} options.transforms the page's one E2eeTransforms (created on first use)
   * @param {(state: EncryptionState) => void} [options.onChange]
   * @param {(transformId: string) => string | undefined} [options.ownerOf] whose media a receiver
   *   transform decrypts (media.js knows), for key requests of the stall watch
   * @param {number} [options.rotationMs]
   */
  constructor({ signaling, device, transforms, onChange, ownerOf, rotationMs = ROTATION_INTERVAL_MS }) {
    this.signaling = signaling;
    this.device = device;
    this.getTransforms = transforms;
    this.onChange = onChange ?? (() => {});
    this.ownerOf = ownerOf ?? (() => undefined);
    this.rotationMs = rotationMs;
    /** @type {E2eeTransforms | null} */
    this.transforms = null;
    this.on = false;
    /** @type {E2eeState} */
    this.server = { encrypted: false, allow_unencrypted: false };
    /** @type {SafetyCode | null} */
    this.safetyCode = null;
    /** @type {Stats | null} */
    this.stats = null;
    /** @type {string | null} own participant id the keyring belongs to */
    this.selfId = null;
    /** @type {Participant | null} */
    this.self = null;
    /** @type {Map<string, Participant>} the others */
    this.participants = new Map();
    /** @type {Promise<Keyring> | null} */
    this.keyring = null;
    /** @type {Promise<unknown>} keeps key operations in the order their messages arrived */
    this.chain = Promise.resolve();
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.rotationTimer = undefined;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.statsTimer = undefined;
    this.codeSerial = 0;
    this.closed = false;
    /** @type {boolean | null} plain mode as last told to the transforms */
    this.plainMode = null;
    /** @type {Map<string, {frames: number, dropped: number, stalled: number}>} video receivers seen by the stall watch */
    this.watched = new Map();
    /** @type {Map<string, number>} when a key was last requested, by participant id */
    this.keyRequested = new Map();
    /** Stalled tracks the watch acted on (shown in the test hook). */
    this.stalls = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} the rotation for a burst of leaves */
    this.leaveTimer = undefined;

    signaling.on('participant_joined', (m) => this.joined(m.participant));
    signaling.on('participant_left', (m) => this.left(m.id));
    signaling.on('key_envelope', (m) => this.envelope(m.from, m.envelope));
    signaling.on('key_request', (m) => this.keysRequested(m.from));
    signaling.on('e2ee_state', (m) => {
      this.server = { encrypted: m.encrypted, allow_unencrypted: m.allow_unencrypted };
      this.changed();
    });
  }

  /** @returns {EncryptionState} */
  get state() {
    return { on: this.on, encrypted: this.encrypted, safetyCode: this.safetyCode };
  }

  /** On, and nobody present who cannot encrypt (checked here too: the server only relays). */
  get encrypted() {
    if (!this.on || !this.server.encrypted) return false;
    for (const p of this.participants.values()) if (!p.device?.e2ee) return false;
    return true;
  }

  /**
   * A `welcome` (fresh or resumed): decides whether media is encrypted and returns the transforms
   * for media.js (null: not encrypted). Called by MediaSession before it creates connections.
   * @param {WelcomeMessage} m
   * @returns {E2eeTransforms | null}
   */
  welcome(m) {
    this.server = { ...m.e2ee };
    if (this.closed) return null;
    const transforms = m.e2ee_required && this.device ? this.getTransforms() : null;
    if (!transforms || !this.device) {
      if (m.e2ee_required) console.warn('rathaus: e2ee: this browser cannot encrypt; a moderator let it in, so the meeting is not end-to-end encrypted');
      this.stop();
      this.changed();
      return null;
    }
    this.transforms = transforms;
    this.on = true;
    this.self = m.self;
    if (this.selfId !== m.self.id) {
      // A new participant (first join, or after a failed resume): a new keyring, no one keyed yet.
      this.stopKeyring();
      this.selfId = m.self.id;
      const device = this.device;
      this.keyring = Keyring.create({
        device,
        participantId: m.self.id,
        receiver: transforms,
        onSenderKey: (i) => {
          transforms.setSenderKey(i.suite, i.kid, i.baseKey)
            .catch((e) => console.error('rathaus: e2ee: could not set own key', e));
        },
      });
      this.keyring.catch((e) => console.error('rathaus: e2ee: could not create the keyring', e));
    }
    const present = new Set(m.participants.map((p) => p.id));
    for (const id of [...this.participants.keys()]) if (!present.has(id)) this.left(id);
    for (const p of m.participants) if (!this.participants.has(p.id)) this.joined(p);
    this.startTimers();
    this.updateCode();
    this.changed();
    return transforms;
  }

  /** @param {Participant} p */
  joined(p) {
    if (!this.on || p.id === this.selfId) return;
    const known = this.participants.has(p.id);
    this.participants.set(p.id, p);
    this.updateCode();
    this.changed();
    if (known) return;
    const peer = peerFromParticipant(p);
    if (!peer) {
      console.warn(`rathaus: e2ee: participant ${p.id} has no device that can encrypt; it gets no keys`);
      return;
    }
    this.run(`keys for ${p.id}`, (k) => k.onJoin(peer));
  }

  /** @param {string} id */
  left(id) {
    if (!this.on || !this.participants.delete(id)) return;
    this.updateCode();
    this.changed();
    this.run(`keys of ${id} dropped`, (k) => k.onLeave(id, { coalesce: true }));
    if (this.leaveTimer !== undefined) return;
    this.leaveTimer = setTimeout(() => {
      this.leaveTimer = undefined;
      this.run('rotation after leaves', (k) => k.settleLeaves());
    }, LEAVE_BURST_MS);
  }

  /** @param {string} from @param {string} envelope */
  envelope(from, envelope) {
    if (!this.on) {
      console.warn('rathaus: e2ee: a key envelope arrived, but this meeting is not encrypted here; ignored');
      return;
    }
    this.run(`key envelope from ${from}`, async (k) => {
      await k.onEnvelope(from, envelope);
      return [];
    });
  }

  /** `from` cannot decrypt our media: seal our current key to it again. @param {string} from */
  keysRequested(from) {
    const p = this.participants.get(from);
    const peer = p && this.on ? peerFromParticipant(p) : null;
    if (!peer) return;
    this.run(`keys again for ${from}`, (k) => k.onJoin(peer));
  }

  /**
   * Runs one key operation after the ones before, and sends the envelopes it returns. Errors are
   * logged and never break the meeting.
   * @param {string} what @param {(k: Keyring) => Promise<OutgoingEnvelope[]>} operation
   */
  run(what, operation) {
    const keyring = this.keyring;
    if (!keyring) return;
    this.chain = this.chain.then(async () => {
      const k = await keyring;
      if (this.keyring !== keyring || this.closed) return;
      const envelopes = await operation(k);
      for (const message of msg.keyEnvelopes(envelopes)) this.signaling.send(message);
    }).catch((e) => {
      if (e instanceof EnvelopeError) {
        console.error(`rathaus: e2ee: ${what}: rejected (${e.code}): ${e.message}`);
      } else {
        console.error(`rathaus: e2ee: ${what} failed:`, e);
      }
    });
  }

  /** A new own key for everyone now (also what the 15-minute timer does). */
  rotate() {
    this.run('rotation', (k) => k.rotate());
  }

  startTimers() {
    if (this.rotationTimer === undefined) {
      this.rotationTimer = setInterval(() => this.rotate(), this.rotationMs);
    }
    if (this.statsTimer === undefined) {
      this.statsTimer = setInterval(() => this.pollStats(), STATS_INTERVAL_MS);
    }
  }

  async pollStats() {
    try {
      if (this.transforms && this.on) this.stats = await this.transforms.stats();
    } catch {
      return; // the transforms were closed meanwhile
    }
    if (this.stats && this.on) this.watchStalls(this.stats);
  }

  /** @param {Stats} stats */
  watchStalls(stats) {
    for (const [id, t] of Object.entries(stats.transforms)) {
      if (t.role !== 'receiver' || t.kind !== 'video') continue;
      const before = this.watched.get(id);
      const stalling = before !== undefined && t.dropped > before.dropped && t.frames === before.frames;
      const stalled = stalling ? before.stalled + 1 : 0;
      const acting = stalled >= STALL_SECONDS;
      this.watched.set(id, { frames: t.frames, dropped: t.dropped, stalled: acting ? 0 : stalled });
      if (acting) this.recover(id, t.lastDrop);
    }
  }

  /** A stalled video receiver: a keyframe, and the sender's key again if that is what is missing.
   * @param {string} transformId @param {string | null} reason */
  recover(transformId, reason) {
    this.stalls++;
    this.transforms?.requestKeyFrame(transformId).catch(() => undefined);
    if (reason !== 'unknown-kid' && reason !== 'auth') return;
    const owner = this.ownerOf(transformId);
    if (!owner || !this.participants.has(owner)) return;
    const now = Date.now();
    if (now - (this.keyRequested.get(owner) ?? -Infinity) < KEY_REQUEST_INTERVAL_MS) return;
    this.keyRequested.set(owner, now);
    console.warn(`rathaus: e2ee: video from ${owner} does not decrypt (${reason}); asking for its key again`);
    this.signaling.send(msg.keyRequest(owner));
  }

  updateCode() {
    const serial = ++this.codeSerial;
    const devices = [];
    if (this.device) devices.push(this.device.publicInfo);
    for (const p of this.participants.values()) if (p.device) devices.push(p.device);
    safetyCode(devices).then((code) => {
      if (serial !== this.codeSerial || !this.on) return;
      this.safetyCode = code;
      this.changed();
    }).catch((e) => console.error('rathaus: e2ee: no safety code:', e));
  }

  changed() {
    const plain = this.on && !this.encrypted;
    if (this.on && this.transforms && plain !== this.plainMode) {
      this.plainMode = plain;
      this.transforms.setPlain(plain).catch((e) => console.error('rathaus: e2ee: could not switch plain mode', e));
    }
    this.onChange(this.state);
  }

  stopKeyring() {
    const keyring = this.keyring;
    this.keyring = null;
    if (keyring) this.transforms?.forgetSenderKeys().catch(() => undefined);
    this.participants.clear();
    this.watched.clear();
    this.keyRequested.clear();
    keyring?.then((k) => k.close(), () => undefined);
  }

  stop() {
    this.on = false;
    this.plainMode = null;
    this.safetyCode = null;
    this.selfId = null;
    this.stopKeyring();
    clearInterval(this.rotationTimer);
    clearInterval(this.statsTimer);
    clearTimeout(this.leaveTimer);
    this.rotationTimer = undefined;
    this.statsTimer = undefined;
    this.leaveTimer = undefined;
  }

  /** The participation is over. */
  close() {
    this.stop();
    this.closed = true;
  }
}
