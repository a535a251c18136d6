// Rathaus's protected media frame: clear codec prefix || SFrame(header || ciphertext || tag), with the
// prefix authenticated as SFrame metadata (VP8: 10 bytes on keyframes, 3 on delta frames; Opus: 1).
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  AES_128_GCM_SHA256_128,
  ReceiverContext,
  SFrameError,
  SenderContext,
  decodeHeader,
  generateBaseKey,
} from '../../src/rathaus/web/static/js/e2ee/sframe.js';
import {
  OPUS_PREFIX,
  VP8_DELTA_PREFIX,
  VP8_KEYFRAME_PREFIX,
  clearPrefixLength,
  protectFrame,
  unprotectFrame,
} from '../../src/rathaus/web/static/js/e2ee/frames.js';

/** @param {string} code */
const refused = (code) => (error) => error instanceof SFrameError && error.code === code;

async function pair(kid = 77) {
  const base = generateBaseKey(AES_128_GCM_SHA256_128);
  const sender = await SenderContext.create(AES_128_GCM_SHA256_128, kid, base);
  const receiver = new ReceiverContext();
  await receiver.addKey(AES_128_GCM_SHA256_128, kid, base);
  return {sender, receiver};
}

/** A VP8 frame as an encoder emits it: frame tag (P bit 0 on keyframes), start code, size. */
function vp8(isKeyFrame, length) {
  const frame = crypto.getRandomValues(new Uint8Array(length));
  if (length > 0) frame[0] = isKeyFrame ? frame[0] & 0xfe : frame[0] | 0x01;
  if (isKeyFrame && length >= 10) frame.set([0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01], 3); // 640x480
  return frame.buffer;
}

/** An Opus frame: TOC byte, then the payload. */
function opus(length) {
  const frame = crypto.getRandomValues(new Uint8Array(length));
  if (length > 0) frame[0] = 0x78; // config 15 (hybrid, fullband, 20 ms), mono, one frame per packet
  return frame.buffer;
}

test('prefix lengths', () => {
  assert.equal(clearPrefixLength('video', true), 10);
  assert.equal(clearPrefixLength('video', false), 3);
  assert.equal(clearPrefixLength('audio', false), 1);
  assert.equal(clearPrefixLength('audio', true), 1);
  assert.deepEqual([VP8_KEYFRAME_PREFIX, VP8_DELTA_PREFIX, OPUS_PREFIX], [10, 3, 1]);
});

test('VP8 keyframe, VP8 delta frame and Opus frame: prefix in clear, the rest encrypted, round trip', async () => {
  const {sender, receiver} = await pair();
  const cases = [
    ['video', true, vp8(true, 1200), 10],
    ['video', false, vp8(false, 600), 3],
    ['audio', false, opus(90), 1],
    ['video', true, vp8(true, 10), 10], // exactly the prefix: empty ciphertext
    ['video', false, vp8(false, 3), 3],
    ['audio', false, opus(1), 1],
  ];
  for (const [kind, isKeyFrame, frame, n] of cases) {
    const original = new Uint8Array(frame.slice(0));
    const protectedFrame = await protectFrame(sender, kind, isKeyFrame, frame);
    assert.ok(protectedFrame instanceof ArrayBuffer);
    const bytes = new Uint8Array(protectedFrame);
    assert.deepEqual(bytes.subarray(0, n), original.subarray(0, n), `${kind} ${isKeyFrame}: clear prefix`);
    const header = decodeHeader(bytes, n);
    assert.equal(header.kid, 77n);
    assert.equal(bytes.length, original.length + header.length + 16);
    if (original.length > n + 16) {
      assert.notDeepEqual(bytes.subarray(n + header.length, n + header.length + 16), original.subarray(n, n + 16));
    }
    if (kind === 'video') assert.equal(bytes[0] & 0x01, isKeyFrame ? 0 : 1, 'Janus still sees the keyframe bit');
    const back = await unprotectFrame(receiver, kind, isKeyFrame, protectedFrame);
    assert.ok(back instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(back), original, `${kind} ${isKeyFrame}: round trip`);
  }
});

test('typed-array input works too', async () => {
  const {sender, receiver} = await pair();
  const buffer = new Uint8Array(vp8(false, 50));
  const slice = new Uint8Array(buffer.buffer, 5, 40);
  const back = await unprotectFrame(receiver, 'video', false, await protectFrame(sender, 'video', false, slice));
  assert.deepEqual(new Uint8Array(back), slice);
});

test('frames shorter than the prefix are encrypted whole', async () => {
  const {sender, receiver} = await pair();
  for (const [kind, isKeyFrame, frame] of [
    ['video', true, vp8(true, 9)],
    ['video', true, vp8(true, 1)],
    ['video', false, vp8(false, 2)],
    ['video', false, vp8(false, 0)],
    ['audio', false, opus(0)],
  ]) {
    const original = new Uint8Array(frame.slice(0));
    const bytes = new Uint8Array(await protectFrame(sender, kind, isKeyFrame, frame));
    const header = decodeHeader(bytes, 0);
    assert.equal(header.kid, 77n, 'the SFrame header comes first');
    assert.equal(bytes.length, original.length + header.length + 16);
    assert.deepEqual(new Uint8Array(await unprotectFrame(receiver, kind, isKeyFrame, bytes.buffer)), original);
  }
});

test('a short frame whose ciphertext also reads as "prefix + SFrame" still opens', async () => {
  // KID 2^40 makes a 7-byte header, so a 5-byte keyframe encrypted whole is 28 bytes long; when
  // byte 10 (inside the ciphertext) looks like a 1-byte header, the receiver's first reading
  // (10 clear bytes) is plausible too, fails, and the second one must be taken.
  const {sender, receiver} = await pair(2n ** 40n);
  let ambiguous = 0;
  for (let i = 0; i < 64; i++) {
    const original = new Uint8Array(vp8(true, 5));
    const bytes = new Uint8Array(await protectFrame(sender, 'video', true, original.slice().buffer));
    if ((bytes[10] & 0x88) === 0) ambiguous++;
    assert.deepEqual(new Uint8Array(await unprotectFrame(receiver, 'video', true, bytes.buffer)), original);
  }
  assert.ok(ambiguous > 0, 'the ambiguous case occurred');
});

test('tampering with one bit of the clear prefix, header, ciphertext or tag is refused', async () => {
  const {sender, receiver} = await pair();
  for (const [kind, isKeyFrame, frame, n] of [
    ['video', true, vp8(true, 800), 10],
    ['video', false, vp8(false, 300), 3],
    ['audio', false, opus(60), 1],
  ]) {
    const good = new Uint8Array(await protectFrame(sender, kind, isKeyFrame, frame));
    const headerLength = decodeHeader(good, n).length;
    const spots = [
      ['first prefix byte', 0, 0x02],
      ['last prefix byte', n - 1, 0x40],
      ['header CTR', n + headerLength - 1, 0x01],
      ['ciphertext', n + headerLength + 5, 0x01],
      ['tag', good.length - 1, 0x01],
    ];
    for (const [where, at, bit] of spots) {
      const bad = good.slice();
      bad[at] ^= bit;
      await assert.rejects(unprotectFrame(receiver, kind, isKeyFrame, bad.buffer), SFrameError, `${kind}: ${where}`);
    }
    // Cut off the tag, or append a byte.
    await assert.rejects(unprotectFrame(receiver, kind, isKeyFrame, good.slice(0, -1).buffer), SFrameError);
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    await assert.rejects(unprotectFrame(receiver, kind, isKeyFrame, longer.buffer), SFrameError);
    // The untouched frame still opens: refusals did not consume its counter.
    assert.ok(await unprotectFrame(receiver, kind, isKeyFrame, good.buffer));
  }
});

test('a replayed frame is refused', async () => {
  const {sender, receiver} = await pair();
  const frame = await protectFrame(sender, 'audio', false, opus(40));
  await unprotectFrame(receiver, 'audio', false, frame);
  await assert.rejects(unprotectFrame(receiver, 'audio', false, frame), refused('replay'));
});

test('a frame from an unknown sender key is refused', async () => {
  const {receiver} = await pair(77);
  const stranger = await SenderContext.create(AES_128_GCM_SHA256_128, 78, generateBaseKey(AES_128_GCM_SHA256_128));
  const frame = await protectFrame(stranger, 'video', false, vp8(false, 200));
  await assert.rejects(unprotectFrame(receiver, 'video', false, frame), refused('unknown-kid'));
});

test('the keyframe flag must match, and garbage is refused', async () => {
  const {sender, receiver} = await pair();
  const frame = await protectFrame(sender, 'video', true, vp8(true, 400));
  await assert.rejects(unprotectFrame(receiver, 'video', false, frame), SFrameError);
  for (const length of [0, 1, 3, 10, 17, 40, 1000]) {
    const junk = crypto.getRandomValues(new Uint8Array(length)).buffer;
    await assert.rejects(unprotectFrame(receiver, 'video', false, junk), SFrameError, `${length} random bytes`);
  }
});
