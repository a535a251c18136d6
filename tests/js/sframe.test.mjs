// SFrame (RFC 9605) against the RFC's test vectors (Appendix C, in sframe-vectors.json), and the
// receiver's refusals: tampering, replay, unknown KID, malformed headers.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';

import {
  AES_128_GCM_SHA256_128,
  AES_256_GCM_SHA512_128,
  ReceiverContext,
  SFrameError,
  SenderContext,
  decodeHeader,
  decrypt,
  deriveSFrameKey,
  encodeHeader,
  encrypt,
  generateBaseKey,
  importBaseKey,
  makeNonce,
} from '../../src/rathaus/web/static/js/e2ee/sframe.js';

const vectors = JSON.parse(readFileSync(new URL('./sframe-vectors.json', import.meta.url), 'utf8'));

/** @param {string} hex */
const unhex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
/** @param {ArrayBuffer | Uint8Array} bytes */
const hex = (bytes) => Buffer.from(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes).toString('hex');

/** @param {string} code */
const refused = (code) => (error) => error instanceof SFrameError && error.code === code;

test('RFC 9605 C.1: every header vector encodes and decodes', () => {
  const {values, headers} = vectors.header;
  let count = 0;
  for (const [i, kidHex] of values.entries()) {
    for (const [j, ctrHex] of values.entries()) {
      const kid = BigInt(`0x${kidHex}`);
      const ctr = BigInt(`0x${ctrHex}`);
      const expected = headers[i][j];
      assert.equal(hex(encodeHeader(kid, ctr)), expected, `encode kid=${kidHex} ctr=${ctrHex}`);
      const decoded = decodeHeader(unhex(expected));
      assert.deepEqual(decoded, {kid, ctr, length: expected.length / 2}, `decode ${expected}`);
      count++;
    }
  }
  assert.equal(count, 289);
});

test('header: numbers work like bigints, and decoding honours an offset', () => {
  assert.equal(hex(encodeHeader(0x123, 0x4567)), '9901234567');
  assert.deepEqual(decodeHeader(unhex('aabb9901234567ff'), 2), {kid: 0x123n, ctr: 0x4567n, length: 5});
});

test('header: malformed headers are refused', () => {
  for (const bad of [
    '', // empty
    '80', // KID length 1, KID missing
    '9901', // KID truncated
    '08', // CTR length 1, CTR missing
    '0b0100', // CTR length 4, 2 bytes
    '8007', // KID 7 in an extension byte: must sit in the config byte
    '0805', // CTR 5 in an extension byte
    '900012', // KID with a leading zero byte
    '09000f', // CTR with a leading zero byte
  ]) {
    assert.throws(() => decodeHeader(unhex(bad)), refused('malformed'), `header ${bad || '(empty)'}`);
  }
  assert.throws(() => encodeHeader(-1, 0), refused('invalid'));
  assert.throws(() => encodeHeader(0, 1n << 64n), refused('invalid'));
  assert.throws(() => encodeHeader(0.5, 0), refused('invalid'));
});

for (const v of vectors.sframe) {
  const name = `RFC 9605 C.3 suite 0x000${v.cipher_suite}`;
  const kid = BigInt(`0x${v.kid}`);
  const ctr = BigInt(`0x${v.ctr}`);

  test(`${name}: labels, sframe_key, sframe_salt, nonce, aad`, async () => {
    const suite = new Uint8Array([0, v.cipher_suite]);
    const kidBytes = unhex(v.kid);
    const enc = new TextEncoder();
    assert.equal(hex(Buffer.concat([enc.encode('SFrame 1.0 Secret key '), kidBytes, suite])), v.sframe_key_label);
    assert.equal(hex(Buffer.concat([enc.encode('SFrame 1.0 Secret salt '), kidBytes, suite])), v.sframe_salt_label);

    const key = await deriveSFrameKey(v.cipher_suite, kid, unhex(v.base_key), 'encrypt', {extractable: true});
    assert.equal(key.kid, kid);
    assert.equal(hex(await crypto.subtle.exportKey('raw', key.key)), v.sframe_key);
    assert.equal(hex(key.salt), v.sframe_salt);
    assert.equal(hex(makeNonce(key.salt, ctr)), v.nonce);
    assert.equal(hex(Buffer.concat([encodeHeader(kid, ctr), unhex(v.metadata)])), v.aad);
  });

  test(`${name}: encrypt gives ct, decrypt gives pt`, async () => {
    const base = await importBaseKey(unhex(v.base_key));
    const sending = await deriveSFrameKey(v.cipher_suite, kid, base, 'encrypt');
    assert.equal(sending.key.extractable, false);
    assert.deepEqual(sending.key.usages, ['encrypt']);
    assert.equal(hex(await encrypt(sending, ctr, unhex(v.metadata), unhex(v.pt))), v.ct);

    const receiving = await deriveSFrameKey(v.cipher_suite, kid, base, 'decrypt');
    assert.deepEqual(receiving.key.usages, ['decrypt']);
    const store = new Map([[kid, receiving]]);
    assert.equal(hex(await decrypt(store, unhex(v.metadata), unhex(v.ct))), v.pt);
    await assert.rejects(decrypt(store, new Uint8Array(0), unhex(v.ct)), refused('auth'), 'metadata is authenticated');
    await assert.rejects(decrypt(new Map(), unhex(v.metadata), unhex(v.ct)), refused('unknown-kid'));
  });

  test(`${name}: SenderContext and ReceiverContext reproduce the vector`, async () => {
    const sender = new SenderContext(await deriveSFrameKey(v.cipher_suite, kid, unhex(v.base_key), 'encrypt'), ctr);
    assert.equal(hex(await sender.encrypt(unhex(v.metadata), unhex(v.pt))), v.ct);
    assert.equal(sender.counter, ctr + 1n);
    const receiver = new ReceiverContext();
    await receiver.addKey(v.cipher_suite, kid, unhex(v.base_key));
    assert.equal(hex(await receiver.decrypt(unhex(v.metadata), unhex(v.ct))), v.pt);
  });
}

/** A sender and a receiver sharing one fresh base key. */
async function pair(suite = AES_128_GCM_SHA256_128, kid = 42, options = {}) {
  const base = generateBaseKey(suite);
  const sender = await SenderContext.create(suite, kid, base);
  const receiver = new ReceiverContext(options);
  await receiver.addKey(suite, kid, base);
  return {sender, receiver, base};
}

test('round trip with both suites, counters count up from 0', async () => {
  for (const suite of [AES_128_GCM_SHA256_128, AES_256_GCM_SHA512_128]) {
    const {sender, receiver} = await pair(suite, 1000);
    for (let i = 0; i < 20; i++) {
      const meta = Uint8Array.of(i);
      const pt = crypto.getRandomValues(new Uint8Array(i * 37));
      const ct = await sender.encrypt(meta, pt);
      assert.deepEqual(decodeHeader(ct), {kid: 1000n, ctr: BigInt(i), length: i < 8 ? 3 : 4});
      assert.equal(ct.length, decodeHeader(ct).length + pt.length + 16);
      assert.deepEqual(await receiver.decrypt(meta, ct), pt);
    }
  }
});

test('tampering with one bit of header, ciphertext, tag or metadata is refused', async () => {
  const {sender, receiver} = await pair(AES_128_GCM_SHA256_128, 5);
  const meta = unhex('9d012a');
  const pt = new TextEncoder().encode('a frame of video, or of audio');
  for (let i = 0; i < 3; i++) await receiver.decrypt(meta, await sender.encrypt(meta, pt)); // some history
  const ct = await sender.encrypt(meta, pt);
  const headerLength = decodeHeader(ct).length;
  assert.equal(ct[0], 0x53); // KID 5, CTR 3
  const cases = [
    ['header: CTR 3 -> 7, a counter not seen yet', 0, 0x04, 'auth'],
    ['header: CTR 3 -> 2, a counter seen already', 0, 0x01, 'replay'],
    ['header: KID 5 -> 4', 0, 0x10, 'unknown-kid'],
    ['ciphertext', headerLength + 3, 0x01, 'auth'],
    ['tag', ct.length - 1, 0x80, 'auth'],
  ];
  for (const [where, at, bit, code] of cases) {
    const bad = ct.slice();
    bad[at] ^= bit;
    await assert.rejects(receiver.decrypt(meta, bad), refused(code), where);
  }
  const badMeta = meta.slice();
  badMeta[2] ^= 0x80;
  await assert.rejects(receiver.decrypt(badMeta, ct), refused('auth'), 'metadata');
  await assert.rejects(receiver.decrypt(meta, ct.subarray(0, headerLength + 15)), refused('malformed'), 'truncated');
  // None of that moved the window: the genuine frame still decrypts.
  assert.deepEqual(await receiver.decrypt(meta, ct), pt);
});

test('a forged header with a high counter does not move the replay window', async () => {
  const {sender, receiver} = await pair(AES_128_GCM_SHA256_128, 3, {windowSize: 16});
  const first = await sender.encrypt(new Uint8Array(0), Uint8Array.of(1));
  const forged = Uint8Array.of(...encodeHeader(3, 1_000_000), ...first.subarray(1));
  await assert.rejects(receiver.decrypt(new Uint8Array(0), forged), refused('auth'));
  assert.deepEqual(await receiver.decrypt(new Uint8Array(0), first), Uint8Array.of(1));
});

test('replay: a counter seen before, or older than the window, is refused', async () => {
  const {sender, receiver} = await pair(AES_256_GCM_SHA512_128, 7, {windowSize: 8});
  const meta = new Uint8Array(0);
  const frames = [];
  for (let i = 0; i < 20; i++) frames.push(await sender.encrypt(meta, Uint8Array.of(i)));
  // In order, then each once more.
  await receiver.decrypt(meta, frames[0]);
  await assert.rejects(receiver.decrypt(meta, frames[0]), refused('replay'));
  // Out of order inside the window is fine, once.
  await receiver.decrypt(meta, frames[5]);
  await receiver.decrypt(meta, frames[3]);
  await assert.rejects(receiver.decrypt(meta, frames[3]), refused('replay'));
  await receiver.decrypt(meta, frames[1]); // 5 - 1 = 4 < 8
  // Jump ahead: 5 ... 19 leaves counters <= 11 outside a window of 8.
  await receiver.decrypt(meta, frames[19]);
  await assert.rejects(receiver.decrypt(meta, frames[11]), refused('replay'), 'older than the window');
  assert.deepEqual(await receiver.decrypt(meta, frames[12]), Uint8Array.of(12));
  await assert.rejects(receiver.decrypt(meta, frames[19]), refused('replay'));
  // Two concurrent decryptions of one frame: only one wins.
  const results = await Promise.allSettled([receiver.decrypt(meta, frames[15]), receiver.decrypt(meta, frames[15])]);
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  // Setting a key for a KID again keeps that KID's window.
  await receiver.addKey(AES_256_GCM_SHA512_128, 7, new Uint8Array(0));
  await assert.rejects(receiver.decrypt(meta, frames[19]), refused('replay'));
});

test('an unknown KID is refused; keys can be removed', async () => {
  const {sender, receiver} = await pair(AES_128_GCM_SHA256_128, 9);
  const other = await SenderContext.create(AES_128_GCM_SHA256_128, 10, generateBaseKey(AES_128_GCM_SHA256_128));
  await assert.rejects(receiver.decrypt(new Uint8Array(0), await other.encrypt(new Uint8Array(0), Uint8Array.of(1))), refused('unknown-kid'));
  assert.equal(receiver.hasKey(9), true);
  assert.equal(receiver.removeKey(9n), true);
  await assert.rejects(receiver.decrypt(new Uint8Array(0), await sender.encrypt(new Uint8Array(0), Uint8Array.of(1))), refused('unknown-kid'));
});

test('a key for the same KID but another base key does not decrypt', async () => {
  const {sender} = await pair(AES_128_GCM_SHA256_128, 11);
  const receiver = new ReceiverContext();
  await receiver.addKey(AES_128_GCM_SHA256_128, 11, generateBaseKey(AES_128_GCM_SHA256_128));
  await assert.rejects(receiver.decrypt(new Uint8Array(0), await sender.encrypt(new Uint8Array(0), Uint8Array.of(1))), refused('auth'));
});

test('keys are non-extractable and single-purpose', async () => {
  const base = await importBaseKey(generateBaseKey(AES_128_GCM_SHA256_128));
  assert.equal(base.extractable, false);
  const key = await deriveSFrameKey(AES_128_GCM_SHA256_128, 1, base, 'encrypt');
  assert.equal(key.key.extractable, false);
  await assert.rejects(crypto.subtle.exportKey('raw', key.key));
  const store = new Map([[1n, key]]);
  const ct = await encrypt(key, 0, new Uint8Array(0), Uint8Array.of(1, 2, 3));
  await assert.rejects(decrypt(store, new Uint8Array(0), ct), 'an encryption key cannot decrypt');
  await assert.rejects(deriveSFrameKey(3, 1, base, 'encrypt'), refused('invalid'));
});

test('the sender refuses to wrap its counter', async () => {
  const key = await deriveSFrameKey(AES_128_GCM_SHA256_128, 1, generateBaseKey(AES_128_GCM_SHA256_128), 'encrypt');
  const sender = new SenderContext(key, (1n << 64n) - 1n);
  const last = await sender.encrypt(new Uint8Array(0), Uint8Array.of(1));
  assert.equal(decodeHeader(last).ctr, (1n << 64n) - 1n);
  await assert.rejects(sender.encrypt(new Uint8Array(0), Uint8Array.of(1)), refused('exhausted'));
});
