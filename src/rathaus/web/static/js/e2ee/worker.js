// The worker of Rathaus's media encryption: a module worker for WebRTC encoded transforms.
// transforms.js (main thread) creates it and attaches its senders and receivers to it.
//
// Two ways frames reach it, one per connection (never both on one connection):
// - `RTCRtpScriptTransform` (the standard): the browser fires `rtctransform` here with a transformer
//   whose `options` are `{role: 'sender' | 'receiver', kind: 'audio' | 'video', id}`;
// - `createEncodedStreams` (Chromium's legacy API, only where the former is missing): transforms.js
//   posts `{type: 'streams', options, readable, writable}` with the same options.
//
// Senders encrypt every frame with frames.js's protectFrame (VP8/Opus prefix in clear, authenticated);
// before they have a key they DROP frames, never send them unencrypted. Receivers decrypt with
// unprotectFrame and DROP every frame that does not open (no key for its KID, wrong key, tampered,
// replayed, malformed): a decoder would turn it into garbage. Drops are counted per reason.
//
// Plain mode (`{type: 'plain', allowed: true}`) is for a meeting that a participant who cannot
// encrypt has joined with a moderator's permission, shown to everyone as not end-to-end encrypted:
// senders pass frames on unencrypted (that participant must see and hear them), and receivers pass
// on frames that are no SFrame ciphertext of theirs (no known KID, or no SFrame header) as they are.
// Frames that do carry a known KID and fail still drop: those are tampered or replayed ciphertext.
// Leaving plain mode, senders ask their encoders for a keyframe, so receivers resynchronise at once.
//
// Messages in (each may carry `id`; the worker then answers `{type: 'ack', id, ok, error?}`):
//   {type: 'sender-key', suite, kid, key}    own key to encrypt with from now on (HKDF CryptoKey)
//   {type: 'receiver-key', suite, kid, key}  a remote sender's key (added, or replaced for the KID)
//   {type: 'remove-key', kid}                forget a remote sender's key
//   {type: 'forget-sender'}                  forget own keys (the participation ended): senders
//                                            drop frames until the next sender-key
//   {type: 'plain', allowed}                 plain mode on or off (see above)
//   {type: 'key-frame', transform}           a receiver asks its sender for a keyframe (stall watch)
//   {type: 'stats', id}                      answered with {type: 'stats', id, ...Stats}
//   {type: 'streams', options, readable, writable}  legacy API only
//
// Key messages are applied one after the other in the order they arrived (derivation is async).

import {protectFrame, unprotectFrame} from './frames.js';
import {ReceiverContext, SFrameError, SenderContext} from './sframe.js';

/** @typedef {import('./sframe.js').CipherSuite} CipherSuite */
/** @typedef {import('./frames.js').MediaKind} MediaKind */
/** @typedef {{role: 'sender' | 'receiver', kind: MediaKind, id: string}} TransformOptions */
/** @typedef {RTCEncodedVideoFrame | RTCEncodedAudioFrame} EncodedFrame */
/**
 * @typedef {{type?: unknown, id?: unknown, suite?: unknown, kid?: unknown, key?: unknown, options?: unknown,
 *   readable?: unknown, writable?: unknown, allowed?: unknown, transform?: unknown}} InMessage
 */

/**
 * The part of RTCRtpScriptTransformer used here (lib.dom does not know the worker side).
 * @typedef {object} ScriptTransformer
 * @property {ReadableStream<EncodedFrame>} readable
 * @property {WritableStream<EncodedFrame>} writable
 * @property {unknown} options
 * @property {(() => Promise<unknown>) | undefined} [generateKeyFrame]
 * @property {(() => Promise<unknown>) | undefined} [sendKeyFrameRequest]
 */

/**
 * @typedef {object} WorkerScope
 * @property {((event: {transformer: ScriptTransformer}) => void) | null} onrtctransform
 * @property {((event: MessageEvent) => void) | null} onmessage
 * @property {(message: unknown) => void} postMessage
 */

/**
 * Drop reasons: the SFrame error codes, `no-key` (a sender without a key yet), `empty` (a received
 * frame without payload: not an attack, nothing to play), `error` (anything else, e.g. a frame the
 * browser would not let us rewrite).
 * @typedef {import('./sframe.js').SFrameErrorCode | 'no-key' | 'empty' | 'error'} DropReason
 */

/** @typedef {Record<DropReason, number>} DropCounts */

/**
 * Per transform (one sender or receiver of one track): frames passed on encrypted or decrypted,
 * frames passed on in plain mode as they were, frames dropped, keyframes among those passed on,
 * keyframes asked for (a receiver after drops, a sender when its first key came or plain mode ended).
 * @typedef {object} TransformStats
 * @property {'sender' | 'receiver'} role
 * @property {MediaKind} kind
 * @property {number} frames
 * @property {number} plain
 * @property {number} dropped
 * @property {number} keyFrames
 * @property {number} keyFrameRequests
 * @property {DropReason | null} lastDrop why the last dropped frame was dropped
 */

/**
 * What `stats` answers: `encrypted`/`decrypted` count frames passed on, `plain` frames passed on
 * unencrypted in plain mode (sent or received), `dropped` counts frames not passed on, by reason;
 * `transforms` by transform id (to spot a track that stalls).
 * @typedef {object} Stats
 * @property {number} encrypted
 * @property {number} decrypted
 * @property {number} plain
 * @property {boolean} plainMode
 * @property {DropCounts} dropped
 * @property {Record<string, TransformStats>} transforms
 * @property {string | null} senderKid own KID in use (decimal), or null
 * @property {string[]} receiverKids
 */

const scope = /** @type {WorkerScope} */ (/** @type {unknown} */ (globalThis));

/** Ask for a keyframe at most this often per receiver. */
const KEY_FRAME_REQUEST_INTERVAL_MS = 1000;

/** @type {SenderContext | null} */
let sender = null;
/**
 * Every own key this worker has encrypted with, by KID: a KID that comes back keeps its counter, so
 * no (KID, CTR) is ever used twice.
 * @type {Map<bigint, SenderContext>}
 */
const senderContexts = new Map();
/**
 * One ReceiverContext per kind: a remote sender's audio and video share its KID and counter, but
 * travel through separate pipelines that may lag each other by more than a replay window. A frame of
 * one kind replayed into the other still fails: the clear prefix (1 vs 3/10 bytes) is in the AAD.
 * @type {Record<MediaKind, ReceiverContext>}
 */
const receivers = {audio: new ReceiverContext(), video: new ReceiverContext()};
/** @type {Set<bigint>} */
const receiverKids = new Set();
/**
 * Video senders that dropped frames for lack of a key (to ask their encoder for a keyframe).
 * @type {Map<ScriptTransformer, TransformStats>}
 */
const starvedSenders = new Map();
/**
 * Video senders of the standard API, to ask for a keyframe when plain mode ends.
 * @type {Map<ScriptTransformer, TransformStats>}
 */
const videoSenders = new Map();
/**
 * Receivers of the standard API by transform id, for keyframe requests of the stall watch.
 * @type {Map<string, ScriptTransformer>}
 */
const receiverTransformers = new Map();
/** Plain mode: see the head of this file. */
let plainMode = false;

let encrypted = 0;
let decrypted = 0;
let plain = 0;
/** @type {DropCounts} */
const dropped = {
  'auth': 0, 'replay': 0, 'unknown-kid': 0, 'malformed': 0, 'exhausted': 0, 'invalid': 0,
  'no-key': 0, 'empty': 0, 'error': 0,
};
/** @type {Map<string, TransformStats>} */
const transforms = new Map();

/** @type {Promise<unknown>} */
let queue = Promise.resolve();

/**
 * @param {unknown} value
 * @returns {TransformOptions}
 */
function parseOptions(value) {
  const o = /** @type {Partial<TransformOptions> | null} */ (value);
  if (!o || (o.role !== 'sender' && o.role !== 'receiver') || (o.kind !== 'audio' && o.kind !== 'video')) {
    throw new Error('e2ee worker: transform options must be {role, kind, id}');
  }
  return {role: o.role, kind: o.kind, id: String(o.id ?? `${o.role}-${o.kind}-${transforms.size}`)};
}

/**
 * @param {unknown} error
 * @returns {DropReason}
 */
function reasonOf(error) {
  return error instanceof SFrameError ? error.code : 'error';
}

/**
 * @param {EncodedFrame} frame
 * @param {MediaKind} kind
 */
function isKeyFrame(frame, kind) {
  return kind === 'video' && /** @type {RTCEncodedVideoFrame} */ (frame).type === 'key';
}

/**
 * Calls generateKeyFrame/sendKeyFrameRequest where the browser has it.
 * @param {ScriptTransformer} transformer
 * @param {(() => Promise<unknown>) | undefined} method
 * @returns {boolean} whether it was called
 */
function call(transformer, method) {
  if (typeof method !== 'function') return false;
  try {
    Promise.resolve(method.call(transformer)).catch(() => undefined);
    return true;
  } catch {
    // refused (e.g. no encoder yet): the decoder's own keyframe requests will do
    return false;
  }
}

/**
 * Pipes one sender's or receiver's frames through encryption or decryption.
 * @param {ReadableStream<EncodedFrame>} readable
 * @param {WritableStream<EncodedFrame>} writable
 * @param {TransformOptions} options
 * @param {ScriptTransformer | null} transformer the standard API's transformer (for keyframe requests)
 */
function attach(readable, writable, options, transformer) {
  const {role, kind, id} = options;
  /** @type {TransformStats} */
  const stats = {role, kind, frames: 0, plain: 0, dropped: 0, keyFrames: 0, keyFrameRequests: 0, lastDrop: null};
  transforms.set(id, stats);
  if (transformer && role === 'receiver') receiverTransformers.set(id, transformer);
  if (transformer && role === 'sender' && kind === 'video') videoSenders.set(transformer, stats);
  let droppedSinceLastFrame = false;
  let lastKeyFrameRequest = -Infinity;

  /** @param {DropReason} reason */
  const drop = (reason) => {
    dropped[reason]++;
    stats.dropped++;
    stats.lastDrop = reason;
    droppedSinceLastFrame = true;
  };

  /** @param {EncodedFrame} frame @param {TransformStreamDefaultController<EncodedFrame>} controller */
  const passPlain = (frame, controller) => {
    plain++;
    stats.plain++;
    controller.enqueue(frame);
  };

  /** @type {Transformer<EncodedFrame, EncodedFrame>} */
  const transform = role === 'sender'
    ? {
      async transform(frame, controller) {
        if (plainMode) {
          passPlain(frame, controller);
          return;
        }
        const context = sender;
        if (!context) {
          drop('no-key');
          if (transformer && kind === 'video') starvedSenders.set(transformer, stats);
          return;
        }
        const key = isKeyFrame(frame, kind);
        try {
          frame.data = await protectFrame(context, kind, key, frame.data);
        } catch (error) {
          drop(reasonOf(error));
          return;
        }
        encrypted++;
        stats.frames++;
        if (key) stats.keyFrames++;
        controller.enqueue(frame);
      },
    }
    : {
      async transform(frame, controller) {
        if (frame.data.byteLength === 0) {
          // Chromium hands receivers some empty audio frames (no payload, nothing a sender
          // encrypted): nothing to decrypt and nothing to play. Dropped, counted apart from attacks.
          dropped.empty++;
          return;
        }
        const key = isKeyFrame(frame, kind);
        try {
          frame.data = await unprotectFrame(receivers[kind], kind, key, frame.data);
        } catch (error) {
          const reason = reasonOf(error);
          if (plainMode && (reason === 'unknown-kid' || reason === 'malformed')) {
            passPlain(frame, controller);
            return;
          }
          drop(reason);
          return;
        }
        decrypted++;
        stats.frames++;
        if (key) stats.keyFrames++;
        // Frames were dropped and this one needs its predecessors: ask the sender for a keyframe
        // rather than wait for the decoder to notice.
        if (droppedSinceLastFrame && kind === 'video' && !key && transformer) {
          const now = performance.now();
          if (now - lastKeyFrameRequest >= KEY_FRAME_REQUEST_INTERVAL_MS) {
            lastKeyFrameRequest = now;
            if (call(transformer, transformer.sendKeyFrameRequest)) stats.keyFrameRequests++;
          }
        } else if (key) {
          droppedSinceLastFrame = false;
        }
        controller.enqueue(frame);
      },
    };

  readable.pipeThrough(new TransformStream(transform)).pipeTo(writable).catch(() => {
    // the track or connection ended
  }).finally(() => {
    starvedSenders.delete(/** @type {ScriptTransformer} */ (transformer));
    videoSenders.delete(/** @type {ScriptTransformer} */ (transformer));
    receiverTransformers.delete(id);
  });
}

/**
 * @param {unknown} kid
 * @returns {bigint}
 */
function kidOf(kid) {
  if (typeof kid !== 'bigint' && typeof kid !== 'number') throw new Error('e2ee worker: KID must be a bigint');
  return BigInt(kid);
}

/**
 * @param {unknown} key
 * @returns {CryptoKey}
 */
function keyOf(key) {
  if (!(key instanceof CryptoKey)) throw new Error('e2ee worker: key must be a CryptoKey (HKDF base key)');
  return key;
}

/**
 * @param {InMessage} message
 */
async function setSenderKey(message) {
  const kid = kidOf(message.kid);
  let context = senderContexts.get(kid);
  if (!context) {
    context = await SenderContext.create(/** @type {CipherSuite} */ (message.suite), kid, keyOf(message.key));
    senderContexts.set(kid, context);
  }
  sender = context;
  // Senders that dropped frames for lack of a key: a keyframe now, so receivers start at once.
  for (const [transformer, stats] of starvedSenders) {
    if (call(transformer, transformer.generateKeyFrame)) stats.keyFrameRequests++;
  }
  starvedSenders.clear();
}

/**
 * @param {InMessage} message
 */
async function addReceiverKey(message) {
  const kid = kidOf(message.kid);
  const suite = /** @type {CipherSuite} */ (message.suite);
  const key = keyOf(message.key);
  await Promise.all([receivers.audio.addKey(suite, kid, key), receivers.video.addKey(suite, kid, key)]);
  receiverKids.add(kid);
}

/**
 * @param {InMessage} message
 */
function removeKey(message) {
  const kid = kidOf(message.kid);
  receivers.audio.removeKey(kid);
  receivers.video.removeKey(kid);
  receiverKids.delete(kid);
}

/** The participation's own keys are gone with it; a next one gets keys of its own. */
function forgetSender() {
  sender = null;
  senderContexts.clear();
}

/**
 * @param {InMessage} message
 */
function setPlain(message) {
  if (typeof message.allowed !== 'boolean') throw new Error('e2ee worker: plain needs allowed: boolean');
  const ended = plainMode && !message.allowed;
  plainMode = message.allowed;
  if (!ended || !sender) return;
  // Receivers drop plain frames again from now on: start them on an encrypted keyframe.
  for (const [transformer, stats] of videoSenders) {
    if (call(transformer, transformer.generateKeyFrame)) stats.keyFrameRequests++;
  }
}

/**
 * @param {InMessage} message
 */
function requestKeyFrame(message) {
  const transformer = receiverTransformers.get(String(message.transform));
  const stats = transforms.get(String(message.transform));
  if (transformer && stats && call(transformer, transformer.sendKeyFrameRequest)) stats.keyFrameRequests++;
}

/** @returns {Stats} */
function snapshot() {
  return {
    encrypted,
    decrypted,
    plain,
    plainMode,
    dropped: {...dropped},
    transforms: Object.fromEntries([...transforms].map(([id, s]) => [id, {...s}])),
    senderKid: sender ? sender.kid.toString() : null,
    receiverKids: [...receiverKids].map(String),
  };
}

/**
 * @param {unknown} id
 * @param {() => Promise<void> | void} operation
 */
function serial(id, operation) {
  const run = queue.then(operation);
  queue = run.catch(() => undefined);
  run.then(
    () => { if (id !== undefined) scope.postMessage({type: 'ack', id, ok: true}); },
    (error) => {
      if (id !== undefined) scope.postMessage({type: 'ack', id, ok: false, error: String(error?.message ?? error)});
    },
  );
}

scope.onrtctransform = (/** @type {{transformer: ScriptTransformer}} */ event) => {
  const transformer = event.transformer;
  attach(transformer.readable, transformer.writable, parseOptions(transformer.options), transformer);
};

scope.onmessage = (/** @type {MessageEvent} */ event) => {
  const message = /** @type {InMessage} */ (event.data ?? {});
  switch (message.type) {
    case 'sender-key':
      serial(message.id, () => setSenderKey(message));
      break;
    case 'receiver-key':
      serial(message.id, () => addReceiverKey(message));
      break;
    case 'remove-key':
      serial(message.id, () => removeKey(message));
      break;
    case 'forget-sender':
      serial(message.id, forgetSender);
      break;
    case 'plain':
      serial(message.id, () => setPlain(message));
      break;
    case 'key-frame':
      serial(message.id, () => requestKeyFrame(message));
      break;
    case 'stats':
      // after the key messages before it, so that a test sees their effect
      serial(undefined, () => scope.postMessage({type: 'stats', id: message.id, ...snapshot()}));
      break;
    case 'streams':
      attach(
        /** @type {ReadableStream<EncodedFrame>} */ (message.readable),
        /** @type {WritableStream<EncodedFrame>} */ (message.writable),
        parseOptions(message.options),
        null,
      );
      break;
    default:
      if (message.id !== undefined) {
        scope.postMessage({type: 'ack', id: message.id, ok: false, error: `unknown message ${String(message.type)}`});
      }
  }
};
