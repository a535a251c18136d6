// Key envelopes: round trip, and refusal of anything tampered, misaddressed, replayed to someone
// else, from the wrong sender or malformed — always with an EnvelopeError and a code.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {MemoryDeviceStore, loadOrCreateDevice} from '../../src/rathaus/web/static/js/e2ee/device.js';
import {EnvelopeError, openSenderKey, sealSenderKey} from '../../src/rathaus/web/static/js/e2ee/envelope.js';
import {b64urlDecode, b64urlEncode} from '../../src/rathaus/web/static/js/e2ee/encoding.js';

const newDevice = () => loadOrCreateDevice(new MemoryDeviceStore());
const [alice, bob, carol] = await Promise.all([newDevice(), newDevice(), newDevice()]);
/** @param {any} device @param {string} participantId */
const party = (device, participantId) => ({participantId, x25519: device.publicInfo.x25519, ed25519: device.publicInfo.ed25519});
const A = party(alice, 'p-alice');
const B = party(bob, 'p-bob');
const C = party(carol, 'p-carol');

const baseKey = crypto.getRandomValues(new Uint8Array(32));
const KID = (0xdeadbeefn << 32n) | 7n;
const sealed = await sealSenderKey(alice, 'p-alice', B, {kid: KID, epoch: 7, baseKey});

/** @param {string} code */
const refused = (code) => (/** @type {unknown} */ error) => {
  assert.ok(error instanceof EnvelopeError, `expected EnvelopeError, got ${error}`);
  assert.equal(error.code, code);
  return true;
};

test('round trip: the recipient gets KID, epoch and base key', async () => {
  assert.match(sealed, /^[A-Za-z0-9_-]+$/);
  const bytes = b64urlDecode(sealed);
  assert.ok(bytes);
  assert.equal(bytes.length, 177);
  assert.equal(bytes[0], 1);
  const opened = await openSenderKey(bob, 'p-bob', A, sealed);
  assert.equal(opened.kid, KID);
  assert.equal(opened.epoch, 7);
  assert.deepEqual(opened.baseKey, baseKey);
});

test('the base key is not in the envelope, and two envelopes of the same key differ', async () => {
  const again = await sealSenderKey(alice, 'p-alice', B, {kid: KID, epoch: 7, baseKey});
  assert.notEqual(again, sealed);
  const bytes = /** @type {Uint8Array} */ (b64urlDecode(sealed));
  const hay = Buffer.from(bytes);
  assert.equal(hay.indexOf(Buffer.from(baseKey.subarray(0, 8))), -1);
});

test('sealing does not consume or change the caller\'s key bytes', async () => {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const copy = new Uint8Array(key);
  await sealSenderKey(alice, 'p-alice', B, {kid: 1, epoch: 0, baseKey: key});
  assert.deepEqual(key, copy);
});

test('tampering with any byte is refused', async () => {
  const bytes = /** @type {Uint8Array} */ (b64urlDecode(sealed));
  for (let i = 0; i < bytes.length; i++) {
    const bad = new Uint8Array(bytes);
    bad[i] ^= 0x01;
    await assert.rejects(openSenderKey(bob, 'p-bob', A, b64urlEncode(bad)), (error) => {
      assert.ok(error instanceof EnvelopeError, `byte ${i}`);
      const expected = i === 0 ? 'version' : i >= 13 && i < 21 ? 'recipient' : 'signature';
      assert.equal(error.code, expected, `byte ${i}`);
      return true;
    });
  }
});

test('an envelope for B opened by C is refused (recipient)', async () => {
  await assert.rejects(openSenderKey(carol, 'p-carol', A, sealed), refused('recipient'));
});

test('an envelope for B replayed to another participant id of the same device is refused (signature)', async () => {
  await assert.rejects(openSenderKey(bob, 'p-bob-2', A, sealed), refused('signature'));
});

test('a relay that rewrites the recipient hint for C still fails (signature)', async () => {
  // Carol's hint, computed the way the sealer does, pasted into Bob's envelope.
  const forCarol = /** @type {Uint8Array} */ (b64urlDecode(await sealSenderKey(alice, 'p-alice', C, {kid: KID, epoch: 7, baseKey})));
  const bytes = /** @type {Uint8Array} */ (b64urlDecode(sealed));
  bytes.set(forCarol.subarray(13, 21), 13);
  await assert.rejects(openSenderKey(carol, 'p-carol', A, b64urlEncode(bytes)), refused('signature'));
});

test('the wrong sender (claimed sender id or keys) is refused (signature)', async () => {
  // relayed as if from Carol (Carol's keys)
  await assert.rejects(openSenderKey(bob, 'p-bob', {...C}, sealed), refused('signature'));
  // Alice's keys but another participant id
  await assert.rejects(openSenderKey(bob, 'p-bob', {...A, participantId: 'p-mallory'}, sealed), refused('signature'));
  // Alice's Ed25519 key with someone else's X25519 key
  await assert.rejects(openSenderKey(bob, 'p-bob', {...A, x25519: C.x25519}, sealed), refused('signature'));
});

test('a signature stripped and replaced by another sender\'s fails to decrypt', async () => {
  // Carol takes Alice's ciphertext for Bob and signs it herself: the AAD names Alice, so the
  // envelope does not decrypt as Carol's.
  const bytes = /** @type {Uint8Array} */ (b64urlDecode(sealed));
  const body = bytes.subarray(0, bytes.length - 64);
  const enc = new TextEncoder();
  /** @param {string} s */
  const lp = (s) => { const b = enc.encode(s); return Buffer.concat([Buffer.from([b.length >> 8, b.length & 255]), b]); };
  const raw = (/** @type {string} */ s) => /** @type {Uint8Array} */ (b64urlDecode(s));
  const transcript = Buffer.concat([lp('p-carol'), raw(C.x25519), raw(C.ed25519), lp('p-bob'), raw(B.x25519), raw(B.ed25519)]);
  const message = Buffer.concat([enc.encode('Rathaus E2EE v1 envelope signature'), transcript, body]);
  const signature = new Uint8Array(await crypto.subtle.sign('Ed25519', carol.ed25519.privateKey, message));
  const forged = new Uint8Array(bytes);
  forged.set(signature, bytes.length - 64);
  await assert.rejects(openSenderKey(bob, 'p-bob', C, b64urlEncode(forged)), refused('decrypt'));
});

test('malformed envelopes are refused with a code, never a TypeError', async () => {
  const bytes = /** @type {Uint8Array} */ (b64urlDecode(sealed));
  const cases = [
    ['', 'malformed'],
    ['not base64!', 'malformed'],
    [`${sealed}=`, 'malformed'],
    [`${sealed.slice(0, -1)}+`, 'malformed'],
    [` ${sealed}`, 'malformed'],
    [b64urlEncode(bytes.subarray(0, 100)), 'malformed'],
    [b64urlEncode(new Uint8Array([...bytes, 0])), 'signature'],
    [b64urlEncode(new Uint8Array(4096)), 'version'],
    [b64urlEncode(Uint8Array.of(1, ...new Uint8Array(4095))), 'malformed'],
    [/** @type {any} */ (null), 'malformed'],
    [/** @type {any} */ (42), 'malformed'],
  ];
  for (const [input, code] of cases) {
    await assert.rejects(openSenderKey(bob, 'p-bob', A, input), refused(code), `case ${String(input).slice(0, 20)}`);
  }
});

test('bad public keys of the claimed sender are refused (key)', async () => {
  await assert.rejects(openSenderKey(bob, 'p-bob', {...A, ed25519: 'AAAA'}, sealed), refused('key'));
  await assert.rejects(openSenderKey(bob, 'p-bob', {...A, ed25519: `${A.ed25519}=`}, sealed), refused('key'));
});

test('sealing to a small-order X25519 key or with bad arguments is refused', async () => {
  const zero = b64urlEncode(new Uint8Array(32));
  await assert.rejects(sealSenderKey(alice, 'p-alice', {...B, x25519: zero}, {kid: 1, epoch: 0, baseKey}), refused('key'));
  await assert.rejects(sealSenderKey(alice, 'p-alice', B, {kid: -1, epoch: 0, baseKey}), refused('invalid'));
  await assert.rejects(sealSenderKey(alice, 'p-alice', B, {kid: 1n << 64n, epoch: 0, baseKey}), refused('invalid'));
  await assert.rejects(sealSenderKey(alice, 'p-alice', B, {kid: 1, epoch: 2 ** 32, baseKey}), refused('invalid'));
  await assert.rejects(sealSenderKey(alice, 'p-alice', B, {kid: 1, epoch: 0, baseKey: new Uint8Array(8)}), refused('invalid'));
});

test('base keys of 16 and 64 bytes and the largest KID and epoch round-trip', async () => {
  for (const length of [16, 64]) {
    const key = crypto.getRandomValues(new Uint8Array(length));
    const kid = (1n << 64n) - 1n;
    const envelope = await sealSenderKey(alice, 'p-alice', B, {kid, epoch: 0xffffffff, baseKey: key});
    const opened = await openSenderKey(bob, 'p-bob', A, envelope);
    assert.deepEqual(opened, {kid, epoch: 0xffffffff, baseKey: key});
  }
});

test('error messages never contain the envelope or key material', async () => {
  try {
    await openSenderKey(carol, 'p-carol', A, sealed);
    assert.fail('not refused');
  } catch (error) {
    assert.ok(error instanceof EnvelopeError);
    assert.ok(!error.message.includes(sealed.slice(0, 16)));
    assert.ok(!error.message.includes(A.ed25519));
  }
});
