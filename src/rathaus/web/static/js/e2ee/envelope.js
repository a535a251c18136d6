// Key envelopes: a sender's SFrame base key, sealed to one recipient device and signed by the
// sender's device. Rathaus relays them (`key_envelope`) and cannot open them. No DOM and no I/O.
//
// Construction (version 1):
// - Ephemeral-static X25519: a fresh X25519 key pair per envelope, agreed with the recipient's
//   static X25519 key (as HPKE's base mode does). Every envelope gets its own AES key, so the random
//   nonce is never reused under one key, and the sender's long-term X25519 key cannot open (or help
//   open) anything it sent. Static-static ECDH was rejected: one key per pair of devices for the
//   whole life of the profiles, and its implicit authentication falls to key-compromise
//   impersonation (whoever steals B's private key can forge envelopes "from" anyone to B).
// - Sender authentication: an Ed25519 signature of the sender's device over the whole envelope and
//   the transcript of who sends to whom — sender participant id and public keys, recipient
//   participant id and public keys, KID, epoch — so an envelope cannot be replayed to another
//   recipient (another device, or another participant id of the same device) or passed off as
//   another sender's. The same transcript is the AES-GCM associated data, so stripping the
//   signature and re-signing the ciphertext under another identity fails to decrypt as well.
// - key = HKDF-SHA256(ikm = X25519(eph, recipient), salt = empty,
//                     info = "Rathaus E2EE v1 sender key" || eph public || recipient X25519 public),
//   AES-256-GCM with a random 96-bit nonce and a 128-bit tag.
//
// Binary format (then unpadded base64url), all integers big-endian:
//
//   offset  size   field
//   0       1      version = 1
//   1       8      KID (u64)
//   9       4      epoch (u32)
//   13      8      recipient hint: SHA-256(recipient X25519 public || recipient Ed25519 public)[0..8]
//   21      32     ephemeral X25519 public key
//   53      12     AES-GCM nonce
//   65      n+16   AES-GCM(base key) || tag, n = 16..64
//   end-64  64     Ed25519 signature
//
// With a 32-byte base key an envelope is 177 bytes (236 characters); the server allows 16..4096.
// The hint only lets a misaddressed envelope fail with a clear `recipient` error; what protects is
// the signature. Base keys are plain bytes only inside these two functions and the caller's import.

import {b64urlDecode, b64urlEncode, bytesEqual, concat, lengthPrefixed, randomBytes, readUintBE, uintBE} from './encoding.js';

export const ENVELOPE_VERSION = 1;

const HKDF_LABEL = 'Rathaus E2EE v1 sender key';
const AAD_LABEL = 'Rathaus E2EE v1 envelope';
const SIGNATURE_LABEL = 'Rathaus E2EE v1 envelope signature';
const HINT_LABEL = 'Rathaus E2EE v1 device';

const HEADER = 65; // version .. nonce
const TAG = 16;
const SIGNATURE = 64;
const MIN_BASE_KEY = 16;
const MAX_BASE_KEY = 64;
const KEY = 32; // raw X25519 and Ed25519 public keys
const MAX_U64 = (1n << 64n) - 1n;

/**
 * Why a key envelope was refused:
 * - `malformed`: not base64url, or a length no envelope has;
 * - `version`: an envelope format this client does not know;
 * - `recipient`: addressed to another device;
 * - `signature`: not signed by the claimed sender for this recipient (forged, tampered, replayed
 *   to someone else, or the wrong sender);
 * - `decrypt`: signed, but the key does not decrypt (a broken sender);
 * - `key`: a public key (the sender's, the recipient's) that is not a raw 32-byte key;
 * - `invalid`: a bad argument on the sending side (KID, epoch or base key out of range);
 * and, from the keyring, which uses the same error:
 * - `sender`: from a participant without a known device;
 * - `stale`: an epoch older than one already accepted from that sender (a replayed old key);
 * - `kid`: a KID that does not fit the sender (another sender's, or not its prefix and epoch).
 * @typedef {'malformed' | 'version' | 'recipient' | 'signature' | 'decrypt' | 'key' | 'invalid' | 'sender' | 'stale' | 'kid'} EnvelopeErrorCode
 */

/** The one error of key distribution; its message never contains key material. */
export class EnvelopeError extends Error {
  /**
   * @param {EnvelopeErrorCode} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'EnvelopeError';
    /** @type {EnvelopeErrorCode} */
    this.code = code;
  }
}

/**
 * One end of an envelope: a participant id and its device's raw public keys (base64url, as in the
 * protocol's Device).
 * @typedef {{participantId: string, x25519: string, ed25519: string}} Party
 */

/**
 * The sending or receiving device (see device.js); only the private keys and `publicInfo` are used.
 * @typedef {{x25519: CryptoKeyPair, ed25519: CryptoKeyPair, publicInfo: {x25519: string, ed25519: string}}} EnvelopeDevice
 */

/**
 * What an envelope carries.
 * @typedef {{kid: bigint, epoch: number, baseKey: Uint8Array<ArrayBuffer>}} SenderKey
 */

/**
 * @param {unknown} text
 * @param {string} what
 * @returns {Uint8Array<ArrayBuffer>}
 */
function rawKey(text, what) {
  const bytes = b64urlDecode(text);
  if (!bytes || bytes.length !== KEY) throw new EnvelopeError('key', `${what} is not a raw 32-byte public key`);
  return bytes;
}

/**
 * The parties' part of the transcript: who sends to whom, with which keys.
 * @param {string} senderId
 * @param {Uint8Array} senderX
 * @param {Uint8Array} senderEd
 * @param {string} recipientId
 * @param {Uint8Array} recipientX
 * @param {Uint8Array} recipientEd
 */
function parties(senderId, senderX, senderEd, recipientId, recipientX, recipientEd) {
  return concat(
    lengthPrefixed(senderId), senderX, senderEd,
    lengthPrefixed(recipientId), recipientX, recipientEd,
  );
}

/**
 * @param {Uint8Array} x
 * @param {Uint8Array} ed
 */
async function recipientHint(x, ed) {
  const digest = await crypto.subtle.digest('SHA-256', concat(new TextEncoder().encode(HINT_LABEL), x, ed));
  return new Uint8Array(digest, 0, 8);
}

/**
 * The AES-256-GCM key of one envelope.
 * @param {ArrayBuffer} shared the X25519 output
 * @param {Uint8Array} ephemeral
 * @param {Uint8Array} recipientX
 * @param {KeyUsage} usage
 */
async function envelopeKey(shared, ephemeral, recipientX, usage) {
  if (new Uint8Array(shared).every((b) => b === 0)) throw new EnvelopeError('decrypt', 'X25519 gave the all-zero secret');
  const ikm = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    {name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: concat(new TextEncoder().encode(HKDF_LABEL), ephemeral, recipientX)},
    ikm,
    {name: 'AES-GCM', length: 256},
    false,
    [usage],
  );
}

/**
 * Seals a sender key to one recipient device and signs it with the sender's device.
 * @param {EnvelopeDevice} senderDevice
 * @param {string} senderParticipantId
 * @param {Party} recipient
 * @param {{kid: number | bigint, epoch: number, baseKey: Uint8Array}} key
 * @returns {Promise<string>} the envelope, base64url
 */
export async function sealSenderKey(senderDevice, senderParticipantId, recipient, key) {
  const kid = BigInt(key.kid);
  if (kid < 0n || kid > MAX_U64) throw new EnvelopeError('invalid', 'KID out of range');
  if (!Number.isInteger(key.epoch) || key.epoch < 0 || key.epoch > 0xffffffff) throw new EnvelopeError('invalid', 'epoch out of range');
  if (!(key.baseKey instanceof Uint8Array) || key.baseKey.length < MIN_BASE_KEY || key.baseKey.length > MAX_BASE_KEY) {
    throw new EnvelopeError('invalid', `base key must be ${MIN_BASE_KEY}..${MAX_BASE_KEY} bytes`);
  }
  const senderX = rawKey(senderDevice.publicInfo.x25519, 'the sender\'s X25519 key');
  const senderEd = rawKey(senderDevice.publicInfo.ed25519, 'the sender\'s Ed25519 key');
  const recipientX = rawKey(recipient.x25519, 'the recipient\'s X25519 key');
  const recipientEd = rawKey(recipient.ed25519, 'the recipient\'s Ed25519 key');

  let recipientKey;
  try {
    recipientKey = await crypto.subtle.importKey('raw', recipientX, {name: 'X25519'}, false, []);
  } catch {
    throw new EnvelopeError('key', 'the recipient\'s X25519 key is not usable');
  }
  const ephemeral = /** @type {CryptoKeyPair} */ (await crypto.subtle.generateKey({name: 'X25519'}, false, ['deriveBits']));
  const ephemeralPublic = new Uint8Array(await crypto.subtle.exportKey('raw', ephemeral.publicKey));
  let shared;
  try {
    shared = await crypto.subtle.deriveBits({name: 'X25519', public: recipientKey}, ephemeral.privateKey, 256);
  } catch {
    throw new EnvelopeError('key', 'the recipient\'s X25519 key is not usable (small order?)');
  }
  const aesKey = await envelopeKey(shared, ephemeralPublic, recipientX, 'encrypt').catch((error) => {
    throw error instanceof EnvelopeError ? new EnvelopeError('key', 'the recipient\'s X25519 key is not usable (small order)') : error;
  });

  const nonce = randomBytes(12);
  const header = concat(
    Uint8Array.of(ENVELOPE_VERSION),
    uintBE(kid, 8),
    uintBE(key.epoch, 4),
    await recipientHint(recipientX, recipientEd),
    ephemeralPublic,
    nonce,
  );
  const transcript = parties(senderParticipantId, senderX, senderEd, recipient.participantId, recipientX, recipientEd);
  const plain = new Uint8Array(key.baseKey); // a copy over a plain ArrayBuffer, overwritten below
  let sealed;
  try {
    sealed = new Uint8Array(await crypto.subtle.encrypt(
      {name: 'AES-GCM', iv: nonce, additionalData: concat(new TextEncoder().encode(AAD_LABEL), transcript, header), tagLength: TAG * 8},
      aesKey,
      plain,
    ));
  } finally {
    plain.fill(0);
  }
  const body = concat(header, sealed);
  const signature = new Uint8Array(await crypto.subtle.sign(
    {name: 'Ed25519'},
    senderDevice.ed25519.privateKey,
    concat(new TextEncoder().encode(SIGNATURE_LABEL), transcript, body),
  ));
  return b64urlEncode(concat(body, signature));
}

/**
 * Opens an envelope addressed to this device, after checking that the claimed sender signed it for
 * this recipient.
 * @param {EnvelopeDevice} recipientDevice
 * @param {string} recipientParticipantId
 * @param {Party} sender who the relay says sent it (`key_envelope.from`) and that participant's device keys
 * @param {string} envelope base64url
 * @returns {Promise<SenderKey>} the caller imports `baseKey` and then overwrites it (`fill(0)`)
 * @throws {EnvelopeError}
 */
export async function openSenderKey(recipientDevice, recipientParticipantId, sender, envelope) {
  const bytes = b64urlDecode(envelope);
  if (!bytes) throw new EnvelopeError('malformed', 'key envelope is not unpadded canonical base64url');
  if (bytes.length === 0) throw new EnvelopeError('malformed', 'key envelope is empty');
  if (bytes[0] !== ENVELOPE_VERSION) throw new EnvelopeError('version', `key envelope version ${bytes[0]} is not supported`);
  const sealedLength = bytes.length - HEADER - SIGNATURE;
  if (sealedLength < MIN_BASE_KEY + TAG || sealedLength > MAX_BASE_KEY + TAG) {
    throw new EnvelopeError('malformed', `key envelope has an impossible length (${bytes.length} bytes)`);
  }
  const recipientX = rawKey(recipientDevice.publicInfo.x25519, 'this device\'s X25519 key');
  const recipientEd = rawKey(recipientDevice.publicInfo.ed25519, 'this device\'s Ed25519 key');
  const senderX = rawKey(sender.x25519, 'the sender\'s X25519 key');
  const senderEd = rawKey(sender.ed25519, 'the sender\'s Ed25519 key');

  if (!bytesEqual(bytes.subarray(13, 21), await recipientHint(recipientX, recipientEd))) {
    throw new EnvelopeError('recipient', 'key envelope is addressed to another device');
  }

  const body = bytes.subarray(0, bytes.length - SIGNATURE);
  const transcript = parties(sender.participantId, senderX, senderEd, recipientParticipantId, recipientX, recipientEd);
  let verifyKey;
  try {
    verifyKey = await crypto.subtle.importKey('raw', senderEd, {name: 'Ed25519'}, false, ['verify']);
  } catch {
    throw new EnvelopeError('key', 'the sender\'s Ed25519 key is not usable');
  }
  let valid = false;
  try {
    valid = await crypto.subtle.verify(
      {name: 'Ed25519'},
      verifyKey,
      bytes.subarray(bytes.length - SIGNATURE),
      concat(new TextEncoder().encode(SIGNATURE_LABEL), transcript, body),
    );
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new EnvelopeError('signature', 'key envelope signature does not verify for this sender and recipient');
  }

  const header = bytes.subarray(0, HEADER);
  const ephemeralPublic = bytes.subarray(21, 53);
  let plain;
  try {
    const ephemeralKey = await crypto.subtle.importKey('raw', ephemeralPublic, {name: 'X25519'}, false, []);
    const shared = await crypto.subtle.deriveBits({name: 'X25519', public: ephemeralKey}, recipientDevice.x25519.privateKey, 256);
    const aesKey = await envelopeKey(shared, ephemeralPublic, recipientX, 'decrypt');
    plain = await crypto.subtle.decrypt(
      {name: 'AES-GCM', iv: bytes.subarray(53, 65), additionalData: concat(new TextEncoder().encode(AAD_LABEL), transcript, header), tagLength: TAG * 8},
      aesKey,
      bytes.subarray(HEADER, HEADER + sealedLength),
    );
  } catch {
    throw new EnvelopeError('decrypt', 'key envelope does not decrypt');
  }
  return {
    kid: readUintBE(bytes, 1, 8),
    epoch: Number(readUintBE(bytes, 9, 4)),
    baseKey: new Uint8Array(plain),
  };
}
