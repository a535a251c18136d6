// A participant's media keys and their distribution: DOM-free logic (no I/O; the caller sends what
// it returns as `key_envelope {to, envelope}` and feeds in what arrives).
//
// ## The interface: KeyDistribution
//
// Everything the meeting code needs from key distribution goes through this one interface, so that
// MLS (RFC 9420) can replace the envelopes later without touching the meeting code or the media
// transforms:
//
//   onJoin(peer)            a participant (with an E2EE device) is there: a joiner, or one of the
//                           `welcome.participants`; returns the envelopes to send (current keys)
//   onLeave(participantId)  a participant left: forget its keys, and if it had ours, rotate;
//                           returns the envelopes of the new key for everyone else
//   onEnvelope(from, env)   a `key_envelope` arrived: verify, open and install the sender's key
//                           (throws EnvelopeError: log it, drop the envelope, go on)
//   rotate()                new own key (every ROTATION_INTERVAL_MS, by the caller's timer)
//   sender                  the SFrame SenderContext to encrypt own frames with, now
//   close()                 the meeting is over: forget everything
//
// Received keys go into a KeySink (the ReceiverContext of sframe.js, or a proxy that posts the
// non-extractable CryptoKeys to the worker of the encoded transform), own keys are announced with
// `onSenderKey`. Under MLS, the KIDs and base keys would come from the group's exporter instead,
// and the "envelopes" would be MLS handshake messages; the sinks stay the same.
//
// ## Choices
//
// - Cipher suite AES_256_GCM_SHA512_128 with a 32-byte random base key. The same 16-byte tag and
//   frame overhead as the 128-bit suite, and AES-256 costs nothing noticeable per frame (AES-NI/ARMv8
//   in every browser), while recorded council meetings may be worth attacking for decades: the
//   media layer gets the larger margin (and stays as it is if the key agreement later goes
//   post-quantum). 32 bytes are 256 bits of entropy, all HKDF-SHA512 needs; 64 bytes would only make
//   every envelope longer.
// - KID = (32-bit random per-participant prefix << 32) | epoch (u32). Receivers tell senders apart
//   by the prefix and epochs apart by the low half, without any coordination; the prefix is random
//   rather than derived from the participant id so that it says nothing about who is talking to
//   someone watching Janus. The SFrame header then carries an 8-byte KID (9 bytes with the config
//   byte, plus the counter). Two of 200 participants share a prefix with probability ~5e-6; a
//   receiver refuses the second one's envelopes (`kid`), it does not mix them up.
// - A sender's prefix is fixed for its participant id; epochs only go up. So a relay that replays an
//   old envelope cannot bring back a key that a participant who has left still knows (`stale`).
// - After rotate(), the sender keeps encrypting with the old key for `activationDelayMs` (1 s), so
//   that the envelopes of the new key (WebSocket) arrive before the first frames that need it
//   (Janus). A receiver keeps a sender's previous key for `overlapMs` (5 s) after accepting a newer
//   one, for frames in flight; the keys of a participant who leaves are removed at once.
// - Own base keys are kept as bytes (a private field) while they are current, because joiners need
//   them sealed; they are overwritten on rotation and on close. Received base keys are bytes only
//   between opening the envelope and importing them as non-extractable CryptoKeys.

import {AES_256_GCM_SHA512_128, SenderContext, importBaseKey} from './sframe.js';
import {EnvelopeError, openSenderKey, sealSenderKey} from './envelope.js';
import {randomBytes, readUintBE} from './encoding.js';

/** @typedef {import('./sframe.js').CipherSuite} CipherSuite */
/** @typedef {import('./envelope.js').Party} Party */
/** @typedef {import('./envelope.js').EnvelopeDevice} EnvelopeDevice */

/** The SFrame cipher suite of key distribution v1. */
export const SUITE = AES_256_GCM_SHA512_128;
/** Bytes of a base key. */
export const BASE_KEY_BYTES = 32;
/** How often the caller should call rotate(). */
export const ROTATION_INTERVAL_MS = 15 * 60 * 1000;
export const DEFAULT_ACTIVATION_DELAY_MS = 1000;
export const DEFAULT_OVERLAP_MS = 5000;
const MAX_EPOCH = 0xffffffff;

/**
 * One `key_envelope` to send.
 * @typedef {{to: string, envelope: string}} OutgoingEnvelope
 */

/**
 * What onEnvelope did: `accepted` installed a key, `duplicate` had it already (an envelope
 * delivered again, e.g. after a resume).
 * @typedef {{status: 'accepted' | 'duplicate', participantId: string, kid: bigint, epoch: number}} AcceptResult
 */

/**
 * Where received keys go: a ReceiverContext of sframe.js, or a proxy to a worker's.
 * @typedef {{addKey(suite: CipherSuite, kid: bigint, baseKey: CryptoKey): Promise<void> | void, removeKey(kid: bigint): unknown}} KeySink
 */

/**
 * Own key announcement: `baseKey` is the non-extractable HKDF CryptoKey (it can be posted to a
 * worker), `context` a SenderContext for it.
 * @typedef {{kid: bigint, epoch: number, suite: CipherSuite, baseKey: CryptoKey, context: SenderContext}} SenderKeyInfo
 */

/**
 * @typedef {{setTimeout(fn: () => void, ms: number): unknown, clearTimeout(handle: unknown): void}} Timers
 */

/**
 * The interface of key distribution (see the top of this file).
 * @typedef {object} KeyDistribution
 * @property {(peer: Party) => Promise<OutgoingEnvelope[]>} onJoin
 * @property {(participantId: string, options?: {coalesce?: boolean}) => Promise<OutgoingEnvelope[]>} onLeave
 * @property {() => Promise<OutgoingEnvelope[]>} settleLeaves
 * @property {(from: string, envelope: string) => Promise<AcceptResult>} onEnvelope
 * @property {() => Promise<OutgoingEnvelope[]>} rotate
 * @property {SenderContext} sender
 * @property {() => void} close
 */

/**
 * @typedef {object} KeyringOptions
 * @property {EnvelopeDevice} device this browser's device (device.js)
 * @property {string} participantId own participant id (`welcome.self.id`)
 * @property {KeySink} receiver where received keys go
 * @property {(info: SenderKeyInfo) => void} [onSenderKey] called with the first key and on every switch
 * @property {number} [activationDelayMs]
 * @property {number} [overlapMs]
 * @property {Timers} [timers] for tests; the platform's timers by default
 */

/** @typedef {{epoch: number, kid: bigint, raw: Uint8Array<ArrayBuffer>, baseKey: CryptoKey, context: SenderContext}} OwnKey */
/** @typedef {{epoch: number, kid: bigint}} KeyRef */
/**
 * @typedef {object} PeerState
 * @property {Party} party
 * @property {boolean} sent whether it got any key of ours
 * @property {bigint | null} prefix its KID prefix, fixed by its first accepted envelope
 * @property {KeyRef | null} current
 * @property {(KeyRef & {timer: unknown}) | null} previous kept for the overlap
 */

/**
 * @param {number | bigint} prefix 32 bits
 * @param {number} epoch 32 bits
 * @returns {bigint}
 */
export function makeKid(prefix, epoch) {
  return (BigInt(prefix) << 32n) | BigInt(epoch);
}

/**
 * @param {bigint} kid
 * @returns {{prefix: bigint, epoch: number}}
 */
export function splitKid(kid) {
  return {prefix: kid >> 32n, epoch: Number(kid & 0xffffffffn)};
}

/**
 * The Party of a protocol Participant, or null if it has no device that can do E2EE (then it gets
 * no keys: it could not use them).
 * @param {{id: string, device?: {x25519: string, ed25519: string, e2ee?: boolean} | null}} participant
 * @returns {Party | null}
 */
export function peerFromParticipant(participant) {
  const device = participant.device;
  if (!device || device.e2ee === false) return null;
  return {participantId: participant.id, x25519: device.x25519, ed25519: device.ed25519};
}

/** @type {Timers} */
const PLATFORM_TIMERS = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(/** @type {any} */ (handle)),
};

/** @implements {KeyDistribution} */
export class Keyring {
  /** @type {EnvelopeDevice} */ #device;
  /** @type {string} */ #participantId;
  /** @type {KeySink} */ #receiver;
  /** @type {((info: SenderKeyInfo) => void) | undefined} */ #onSenderKey;
  /** @type {number} */ #activationDelayMs;
  /** @type {number} */ #overlapMs;
  /** @type {Timers} */ #timers;
  /** @type {bigint} */ #prefix;
  /** @type {OwnKey | null} */ #active = null;
  /** @type {OwnKey | null} */ #pending = null;
  /** @type {unknown} */ #activationTimer = null;
  /** @type {Map<string, PeerState>} */ #peers = new Map();
  /** @type {Promise<unknown>} */ #queue = Promise.resolve();
  #closed = false;
  /** A leaver had our key, and the rotation for it waits for settleLeaves(). */
  #rotationOwed = false;

  /**
   * Use Keyring.create().
   * @param {KeyringOptions} options
   */
  constructor(options) {
    this.#device = options.device;
    this.#participantId = options.participantId;
    this.#receiver = options.receiver;
    this.#onSenderKey = options.onSenderKey;
    this.#activationDelayMs = options.activationDelayMs ?? DEFAULT_ACTIVATION_DELAY_MS;
    this.#overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS;
    this.#timers = options.timers ?? PLATFORM_TIMERS;
    this.#prefix = readUintBE(randomBytes(4), 0, 4);
  }

  /**
   * A keyring with its first own key (epoch 0) active.
   * @param {KeyringOptions} options
   * @returns {Promise<Keyring>}
   */
  static async create(options) {
    const keyring = new Keyring(options);
    await keyring.#start();
    return keyring;
  }

  async #start() {
    this.#active = await this.#newKey(0);
    this.#announce(this.#active);
  }

  /** The context to encrypt own frames with now (it changes on activation of a rotated key). */
  get sender() {
    return this.#own().context;
  }

  /** Own current KID (the active one). */
  get kid() {
    return this.#own().kid;
  }

  /** Own current epoch (the active one). */
  get epoch() {
    return this.#own().epoch;
  }

  /** Own 32-bit KID prefix. */
  get prefix() {
    return this.#prefix;
  }

  /**
   * The epoch of the newest key accepted from a participant, or null (none yet, or unknown).
   * @param {string} participantId
   * @returns {number | null}
   */
  receivedEpoch(participantId) {
    return this.#peers.get(participantId)?.current?.epoch ?? null;
  }

  /** @returns {OwnKey} */
  #own() {
    if (this.#closed || !this.#active) throw new Error('the keyring is closed');
    return this.#active;
  }

  /**
   * Runs operations one after the other, in the order they were called (an envelope that arrives
   * before a `participant_left` is handled before it), and a failure does not stop the next one.
   * @template T
   * @param {() => Promise<T>} operation
   * @returns {Promise<T>}
   */
  #serial(operation) {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new Error('the keyring is closed');
      return operation();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * @param {number} epoch
   * @returns {Promise<OwnKey>}
   */
  async #newKey(epoch) {
    const raw = randomBytes(BASE_KEY_BYTES);
    const kid = makeKid(this.#prefix, epoch);
    const baseKey = await importBaseKey(raw);
    const context = await SenderContext.create(SUITE, kid, baseKey);
    return {epoch, kid, raw, baseKey, context};
  }

  /** @param {OwnKey} key */
  #announce(key) {
    this.#onSenderKey?.({kid: key.kid, epoch: key.epoch, suite: SUITE, baseKey: key.baseKey, context: key.context});
  }

  /**
   * Seals own keys to peers (each key to each peer, in epoch order).
   * @param {PeerState[]} peers
   * @param {OwnKey[]} keys
   * @returns {Promise<OutgoingEnvelope[]>}
   */
  async #seal(peers, keys) {
    const sealed = await Promise.all(peers.map(async (peer) => {
      /** @type {OutgoingEnvelope[]} */
      const out = [];
      for (const key of keys) {
        const envelope = await sealSenderKey(this.#device, this.#participantId, peer.party, {
          kid: key.kid, epoch: key.epoch, baseKey: key.raw,
        });
        out.push({to: peer.party.participantId, envelope});
      }
      peer.sent = true;
      return out;
    }));
    return sealed.flat();
  }

  /** The keys a newcomer needs: the active one and, during an activation delay, the next one. */
  #currentKeys() {
    const keys = [this.#own()];
    if (this.#pending) keys.push(this.#pending);
    return keys;
  }

  /** @param {PeerState} peer */
  #dropKeys(peer) {
    if (peer.previous) {
      this.#timers.clearTimeout(peer.previous.timer);
      this.#receiver.removeKey(peer.previous.kid);
      peer.previous = null;
    }
    if (peer.current) {
      this.#receiver.removeKey(peer.current.kid);
      peer.current = null;
    }
  }

  /**
   * Registers peers (or updates one whose keys changed) and seals the current own keys to them.
   * The lower-level half of onJoin, for several recipients at once (e.g. `welcome.participants`).
   * @param {Iterable<Party>} recipients
   * @returns {Promise<OutgoingEnvelope[]>}
   */
  envelopesFor(recipients) {
    const list = [...recipients];
    return this.#serial(() => this.#envelopesFor(list));
  }

  /** @param {Party[]} recipients */
  async #envelopesFor(recipients) {
    /** @type {PeerState[]} */
    const peers = [];
    for (const party of recipients) {
      if (party.participantId === this.#participantId) continue;
      let peer = this.#peers.get(party.participantId);
      if (peer && (peer.party.x25519 !== party.x25519 || peer.party.ed25519 !== party.ed25519)) {
        this.#dropKeys(peer);
        peer = undefined;
      }
      if (!peer) {
        peer = {party: {...party}, sent: false, prefix: null, current: null, previous: null};
        this.#peers.set(party.participantId, peer);
      }
      peers.push(peer);
    }
    return this.#seal(peers, this.#currentKeys());
  }

  /**
   * @param {Party} peer
   * @returns {Promise<OutgoingEnvelope[]>}
   */
  onJoin(peer) {
    return this.envelopesFor([peer]);
  }

  /**
   * A participant left: its keys go at once, and a leaver that had our key makes us rotate — now,
   * or with `coalesce` at the next settleLeaves(), once for a burst of leaves (the end of a large
   * meeting) rather than once per leaver.
   * @param {string} participantId
   * @param {{coalesce?: boolean}} [options]
   * @returns {Promise<OutgoingEnvelope[]>}
   */
  onLeave(participantId, {coalesce = false} = {}) {
    return this.#serial(async () => {
      const peer = this.#peers.get(participantId);
      if (!peer) return [];
      this.#peers.delete(participantId);
      this.#dropKeys(peer);
      if (!peer.sent) return [];
      if (!coalesce) return this.#rotate();
      this.#rotationOwed = true;
      return [];
    });
  }

  /**
   * The one rotation owed for the leaves given with `coalesce` since the last call (none if no
   * leaver had our key).
   * @returns {Promise<OutgoingEnvelope[]>}
   */
  settleLeaves() {
    return this.#serial(async () => {
      if (!this.#rotationOwed || this.#closed) return [];
      this.#rotationOwed = false;
      return this.#rotate();
    });
  }

  /**
   * A new own key: sealed to every peer now, used for own frames after the activation delay.
   * @returns {Promise<OutgoingEnvelope[]>}
   */
  rotate() {
    return this.#serial(() => this.#rotate());
  }

  async #rotate() {
    const latest = this.#pending ?? this.#own();
    if (latest.epoch >= MAX_EPOCH) throw new EnvelopeError('invalid', 'no epochs left; rejoin the meeting');
    const next = await this.#newKey(latest.epoch + 1);
    if (this.#pending) this.#pending.raw.fill(0);
    this.#pending = next;
    const envelopes = await this.#seal([...this.#peers.values()], [next]);
    if (this.#activationTimer !== null) this.#timers.clearTimeout(this.#activationTimer);
    this.#activationTimer = null;
    if (this.#activationDelayMs <= 0) {
      this.activateNow();
    } else {
      this.#activationTimer = this.#timers.setTimeout(() => {
        this.#activationTimer = null;
        if (!this.#closed) this.activateNow();
      }, this.#activationDelayMs);
    }
    return envelopes;
  }

  /** Switches own frames to the rotated key now, without waiting for the activation delay. */
  activateNow() {
    if (!this.#pending || this.#closed) return;
    if (this.#activationTimer !== null) this.#timers.clearTimeout(this.#activationTimer);
    this.#activationTimer = null;
    const old = this.#own();
    this.#active = this.#pending;
    this.#pending = null;
    old.raw.fill(0);
    this.#announce(this.#active);
  }

  /**
   * Verifies, opens and installs a sender's key.
   * @param {string} from the participant id the relay names (`key_envelope.from`)
   * @param {string} envelope
   * @returns {Promise<AcceptResult>}
   * @throws {EnvelopeError}
   */
  accept(from, envelope) {
    return this.#serial(() => this.#accept(from, envelope));
  }

  /**
   * @param {string} from
   * @param {string} envelope
   * @returns {Promise<AcceptResult>}
   */
  onEnvelope(from, envelope) {
    return this.accept(from, envelope);
  }

  /**
   * @param {string} from
   * @param {string} envelope
   * @returns {Promise<AcceptResult>}
   */
  async #accept(from, envelope) {
    const peer = this.#peers.get(from);
    if (!peer) throw new EnvelopeError('sender', 'key envelope from a participant without a known E2EE device');
    const opened = await openSenderKey(this.#device, this.#participantId, peer.party, envelope);
    let baseKey;
    try {
      const {kid, epoch} = opened;
      const split = splitKid(kid);
      if (split.epoch !== epoch) throw new EnvelopeError('kid', 'key envelope: KID and epoch disagree');
      if (peer.prefix !== null && split.prefix !== peer.prefix) {
        throw new EnvelopeError('kid', 'key envelope: KID prefix differs from this sender\'s');
      }
      for (const other of this.#peers.values()) {
        if (other !== peer && other.prefix === split.prefix) {
          throw new EnvelopeError('kid', 'key envelope: KID prefix already used by another sender');
        }
      }
      if (peer.current) {
        if (epoch === peer.current.epoch || epoch === peer.previous?.epoch) {
          return {status: 'duplicate', participantId: from, kid, epoch};
        }
        if (epoch < peer.current.epoch) {
          throw new EnvelopeError('stale', `key envelope: epoch ${epoch} is older than the current ${peer.current.epoch}`);
        }
      }
      baseKey = await importBaseKey(opened.baseKey);
    } finally {
      opened.baseKey.fill(0);
    }
    const {kid, epoch} = opened;
    await this.#receiver.addKey(SUITE, kid, baseKey);
    peer.prefix = splitKid(kid).prefix;
    if (peer.current) {
      if (peer.previous) {
        this.#timers.clearTimeout(peer.previous.timer);
        this.#receiver.removeKey(peer.previous.kid);
      }
      const previous = peer.current;
      const timer = this.#timers.setTimeout(() => {
        if (peer.previous?.kid === previous.kid) {
          this.#receiver.removeKey(previous.kid);
          peer.previous = null;
        }
      }, this.#overlapMs);
      peer.previous = {...previous, timer};
    }
    peer.current = {epoch, kid};
    return {status: 'accepted', participantId: from, kid, epoch};
  }

  /** Forgets everything: timers, own key bytes, received keys. */
  close() {
    if (this.#closed) return;
    if (this.#activationTimer !== null) this.#timers.clearTimeout(this.#activationTimer);
    this.#activationTimer = null;
    for (const peer of this.#peers.values()) this.#dropKeys(peer);
    this.#peers.clear();
    this.#active?.raw.fill(0);
    this.#pending?.raw.fill(0);
    this.#pending = null;
    this.#closed = true;
  }
}
