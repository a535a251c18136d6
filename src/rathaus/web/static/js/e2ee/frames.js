// Rathaus's layout of an end-to-end encrypted media frame (for WebRTC encoded transforms).
// No DOM and no I/O.
//
// Janus reads the first bytes of a VP8 frame to find keyframes, so they stay in clear:
//
//   protected frame = clear prefix || SFrame(header || ciphertext || tag)
//
// with the clear prefix passed to SFrame as metadata, so that it is authenticated (part of the AAD).
// Prefix: VP8 10 bytes on keyframes, 3 on delta frames; Opus 1 byte (the TOC). A frame shorter than
// its prefix is encrypted whole, with an empty prefix; the receiver tells the two cases apart by the
// lengths and, where both readings fit, by which one authenticates.

import {SFrameError, decodeHeader} from './sframe.js';

/** @typedef {import('./sframe.js').SenderContext} SenderContext */
/** @typedef {import('./sframe.js').ReceiverContext} ReceiverContext */
/** @typedef {'video' | 'audio'} MediaKind */

/** Clear bytes of a VP8 keyframe: the 3-byte frame tag, start code and dimensions. */
export const VP8_KEYFRAME_PREFIX = 10;
/** Clear bytes of a VP8 delta frame: the 3-byte frame tag. */
export const VP8_DELTA_PREFIX = 3;
/** Clear bytes of an Opus frame: the TOC byte. */
export const OPUS_PREFIX = 1;

/** The AEAD tag length of both supported cipher suites. */
const TAG_LENGTH = 16;

/**
 * How many leading bytes of a frame of this kind stay in clear (when the frame is long enough).
 * @param {MediaKind} kind
 * @param {boolean} isKeyFrame
 * @returns {number}
 */
export function clearPrefixLength(kind, isKeyFrame) {
  if (kind === 'video') return isKeyFrame ? VP8_KEYFRAME_PREFIX : VP8_DELTA_PREFIX;
  if (kind === 'audio') return OPUS_PREFIX;
  throw new SFrameError('invalid', `unknown media kind ${String(kind)}`);
}

/**
 * @param {ArrayBuffer | ArrayBufferView} data
 * @returns {Uint8Array}
 */
function view(data) {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Encrypts one encoded frame: clear prefix || SFrame ciphertext, with the prefix authenticated.
 * @param {SenderContext} sender
 * @param {MediaKind} kind
 * @param {boolean} isKeyFrame
 * @param {ArrayBuffer | ArrayBufferView} data the encoded frame
 * @returns {Promise<ArrayBuffer>}
 */
export async function protectFrame(sender, kind, isKeyFrame, data) {
  const frame = view(data);
  const nominal = clearPrefixLength(kind, isKeyFrame);
  const n = frame.length >= nominal ? nominal : 0;
  const prefix = frame.subarray(0, n);
  const sealed = await sender.encrypt(prefix, frame.subarray(n));
  const out = new Uint8Array(n + sealed.length);
  out.set(prefix, 0);
  out.set(sealed, n);
  return out.buffer;
}

/**
 * Whether the bytes from `offset` on can be an SFrame ciphertext whose plaintext, together with
 * `offset` clear bytes, makes a frame that the sender would have split this way.
 * @param {Uint8Array} frame
 * @param {number} offset
 * @param {number} nominal
 */
function plausibleSplit(frame, offset, nominal) {
  let headerLength;
  try {
    headerLength = decodeHeader(frame, offset).length;
  } catch {
    return false;
  }
  const plaintextLength = frame.length - headerLength - TAG_LENGTH;
  if (plaintextLength < offset) return false;
  return offset === nominal ? plaintextLength >= nominal : plaintextLength < nominal;
}

/**
 * @param {ReceiverContext} receiver
 * @param {Uint8Array} frame
 * @param {number} n
 * @returns {Promise<ArrayBuffer>}
 */
async function open(receiver, frame, n) {
  const prefix = frame.subarray(0, n);
  const plaintext = await receiver.decrypt(prefix, frame.subarray(n));
  const out = new Uint8Array(n + plaintext.length);
  out.set(prefix, 0);
  out.set(plaintext, n);
  return out.buffer;
}

/**
 * Decrypts one protected frame back into the encoded frame.
 * @param {ReceiverContext} receiver
 * @param {MediaKind} kind
 * @param {boolean} isKeyFrame
 * @param {ArrayBuffer | ArrayBufferView} data the protected frame
 * @returns {Promise<ArrayBuffer>}
 * @throws {SFrameError} on a malformed, tampered or replayed frame, or an unknown KID: drop the frame
 */
export async function unprotectFrame(receiver, kind, isKeyFrame, data) {
  const frame = view(data);
  const nominal = clearPrefixLength(kind, isKeyFrame);
  const withPrefix = frame.length >= nominal && plausibleSplit(frame, nominal, nominal);
  const whole = nominal > 0 && plausibleSplit(frame, 0, nominal);
  if (withPrefix) {
    try {
      return await open(receiver, frame, nominal);
    } catch (error) {
      if (!whole || !(error instanceof SFrameError)) throw error;
      try {
        return await open(receiver, frame, 0);
      } catch {
        throw error;
      }
    }
  }
  if (whole) return open(receiver, frame, 0);
  throw new SFrameError('malformed', 'not a protected frame');
}
