// The keyring: own sender keys, envelopes to peers, accepting peers' keys into a ReceiverContext,
// rotation with an overlap, leavers' keys removed — checked end to end with SFrame frames.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {MemoryDeviceStore, loadOrCreateDevice} from '../../src/rathaus/web/static/js/e2ee/device.js';
import {EnvelopeError, sealSenderKey} from '../../src/rathaus/web/static/js/e2ee/envelope.js';
import {
  DEFAULT_ACTIVATION_DELAY_MS,
  DEFAULT_OVERLAP_MS,
  Keyring,
  SUITE,
  makeKid,
  peerFromParticipant,
  splitKid,
} from '../../src/rathaus/web/static/js/e2ee/keyring.js';
import {AES_256_GCM_SHA512_128, ReceiverContext, SFrameError} from '../../src/rathaus/web/static/js/e2ee/sframe.js';
import {protectFrame, unprotectFrame} from '../../src/rathaus/web/static/js/e2ee/frames.js';
import {b64urlDecode, b64urlEncode} from '../../src/rathaus/web/static/js/e2ee/encoding.js';

/** Timers under the test's control. */
class FakeTimers {
  now = 0;
  #next = 1;
  /** @type {Map<number, {fn: () => void, at: number}>} */
  pending = new Map();
  /** @param {() => void} fn @param {number} ms */
  setTimeout(fn, ms) {
    const id = this.#next++;
    this.pending.set(id, {fn, at: this.now + ms});
    return id;
  }
  /** @param {unknown} id */
  clearTimeout(id) {
    this.pending.delete(/** @type {number} */ (id));
  }
  /** @param {number} ms */
  advance(ms) {
    this.now += ms;
    const due = [...this.pending].filter(([, t]) => t.at <= this.now).sort((a, b) => a[1].at - b[1].at);
    for (const [id, t] of due) {
      this.pending.delete(id);
      t.fn();
    }
  }
}

/**
 * A participant: device, keyring, receiver, and the participant as the protocol shows it.
 * @param {string} id
 * @param {FakeTimers} timers
 */
async function participant(id, timers) {
  const device = await loadOrCreateDevice(new MemoryDeviceStore());
  const receiver = new ReceiverContext();
  /** @type {import('../../src/rathaus/web/static/js/e2ee/keyring.js').SenderKeyInfo[]} */
  const announced = [];
  const keyring = await Keyring.create({device, participantId: id, receiver, timers, onSenderKey: (info) => announced.push(info)});
  const asPeer = {participantId: id, x25519: device.publicInfo.x25519, ed25519: device.publicInfo.ed25519};
  return {id, device, receiver, keyring, asPeer, announced};
}

/**
 * Delivers envelopes as Rathaus would (`from` is the sender).
 * @param {string} from
 * @param {{to: string, envelope: string}[]} envelopes
 * @param {Record<string, {keyring: Keyring}>} byId
 */
async function deliver(from, envelopes, byId) {
  const results = [];
  for (const {to, envelope} of envelopes) results.push(await byId[to].keyring.accept(from, envelope));
  return results;
}

const FRAME = new Uint8Array(200).map((_, i) => (i * 7) & 0xff);
/** @param {Keyring} keyring */
const send = (keyring) => protectFrame(keyring.sender, 'video', true, FRAME);
/** @param {ReceiverContext} receiver @param {ArrayBuffer} frame */
const receive = async (receiver, frame) => new Uint8Array(await unprotectFrame(receiver, 'video', true, frame));
/** @param {string} code */
const sframeRefused = (code) => (/** @type {unknown} */ e) => e instanceof SFrameError && e.code === code;
/** @param {string} code */
const refused = (code) => (/** @type {unknown} */ e) => {
  assert.ok(e instanceof EnvelopeError, `expected EnvelopeError, got ${e}`);
  assert.equal(e.code, code);
  return true;
};

/** Three participants who know each other's keys. */
async function meeting() {
  const timers = new FakeTimers();
  const [a, b, c] = await Promise.all(['p-a', 'p-b', 'p-c'].map((id) => participant(id, timers)));
  const byId = {'p-a': a, 'p-b': b, 'p-c': c};
  // everyone learns everyone (welcome, participant_joined) before any envelope arrives
  const outgoing = [];
  for (const x of [a, b, c]) {
    const others = [a, b, c].filter((y) => y !== x).map((y) => y.asPeer);
    outgoing.push(/** @type {const} */ ([x.id, await x.keyring.envelopesFor(others)]));
  }
  for (const [from, envelopes] of outgoing) await deliver(from, envelopes, byId);
  return {timers, a, b, c, byId};
}

test('suite and KID layout: AES_256_GCM_SHA512_128, KID = prefix << 32 | epoch', async () => {
  const {a} = await meeting();
  assert.equal(SUITE, AES_256_GCM_SHA512_128);
  assert.equal(a.keyring.epoch, 0);
  assert.equal(a.keyring.kid, makeKid(a.keyring.prefix, 0));
  assert.deepEqual(splitKid(a.keyring.kid), {prefix: a.keyring.prefix, epoch: 0});
  assert.equal(a.keyring.sender.suite, SUITE);
  assert.equal(a.announced.length, 1);
  assert.equal(a.announced[0].kid, a.keyring.kid);
  assert.equal(a.announced[0].baseKey.extractable, false);
});

test('SFrame frames of a keyring\'s sender decrypt at receivers that accepted its envelope', async () => {
  const {a, b, c} = await meeting();
  for (const [sender, receivers] of [[a, [b, c]], [b, [a, c]], [c, [a, b]]]) {
    const frame = await send(sender.keyring);
    for (const r of receivers) assert.deepEqual(await receive(r.receiver, frame), FRAME);
  }
  assert.equal(b.keyring.receivedEpoch('p-a'), 0);
});

test('a receiver without the envelope cannot decrypt', async () => {
  const timers = new FakeTimers();
  const a = await participant('p-a', timers);
  const stranger = new ReceiverContext();
  await assert.rejects(receive(stranger, await send(a.keyring)), sframeRefused('unknown-kid'));
});

test('rotate: new epoch after the activation delay; receivers accept; the old epoch decrypts during the overlap', async () => {
  const {timers, a, b, c, byId} = await meeting();
  const oldKid = a.keyring.kid;
  const inFlight = await send(a.keyring);

  const envelopes = await a.keyring.rotate();
  assert.deepEqual(envelopes.map((e) => e.to).sort(), ['p-b', 'p-c']);
  // until the envelopes have had time to arrive, A still encrypts with epoch 0
  assert.equal(a.keyring.epoch, 0);
  const results = await deliver('p-a', envelopes, byId);
  for (const r of results) assert.deepEqual({status: r.status, epoch: r.epoch}, {status: 'accepted', epoch: 1});
  assert.equal(b.keyring.receivedEpoch('p-a'), 1);

  timers.advance(DEFAULT_ACTIVATION_DELAY_MS);
  assert.equal(a.keyring.epoch, 1);
  assert.notEqual(a.keyring.kid, oldKid);
  assert.equal(splitKid(a.keyring.kid).prefix, splitKid(oldKid).prefix);
  assert.equal(a.announced.length, 2);

  const fresh = await send(a.keyring);
  assert.deepEqual(await receive(b.receiver, fresh), FRAME);
  assert.deepEqual(await receive(c.receiver, fresh), FRAME);
  // a frame of the previous epoch that was still in flight
  assert.deepEqual(await receive(b.receiver, inFlight), FRAME);

  // after the overlap the old key is gone
  const late = await protectFrame(a.keyring.sender, 'audio', false, FRAME);
  timers.advance(DEFAULT_OVERLAP_MS);
  assert.equal(b.receiver.hasKey(oldKid), false);
  assert.equal(b.receiver.hasKey(a.keyring.kid), true);
  await assert.rejects(receive(c.receiver, inFlight), sframeRefused('unknown-kid'));
  assert.deepEqual(new Uint8Array(await unprotectFrame(b.receiver, 'audio', false, late)), FRAME);
});

test('a leaver: its keys are removed at once, the others rotate and it cannot follow', async () => {
  const {timers, a, b, c, byId} = await meeting();
  const cFrame = await send(c.keyring);
  const cKid = c.keyring.kid;
  assert.ok(a.receiver.hasKey(cKid));

  // everyone gets participant_left for C
  const fromA = await a.keyring.onLeave('p-c');
  const fromB = await b.keyring.onLeave('p-c');
  assert.deepEqual(fromA.map((e) => e.to), ['p-b']);
  assert.deepEqual(fromB.map((e) => e.to), ['p-a']);
  assert.equal(a.receiver.hasKey(cKid), false);
  assert.equal(b.receiver.hasKey(cKid), false);
  await assert.rejects(receive(a.receiver, cFrame), sframeRefused('unknown-kid'));
  assert.equal(a.keyring.receivedEpoch('p-c'), null);

  await deliver('p-a', fromA, byId);
  await deliver('p-b', fromB, byId);
  timers.advance(DEFAULT_ACTIVATION_DELAY_MS);
  assert.equal(a.keyring.epoch, 1);

  const aFrame = await send(a.keyring);
  assert.deepEqual(await receive(b.receiver, aFrame), FRAME);
  // C kept A's old key, but A no longer uses it
  await assert.rejects(receive(c.receiver, aFrame), sframeRefused('unknown-kid'));
  // an envelope that C sends anyway is refused
  const late = await c.keyring.rotate();
  await assert.rejects(a.keyring.accept('p-c', late.find((e) => e.to === 'p-a')?.envelope ?? ''), refused('sender'));
  // leaving twice, or an unknown participant leaving, changes nothing
  assert.deepEqual(await a.keyring.onLeave('p-c'), []);
  assert.deepEqual(await a.keyring.onLeave('p-nobody'), []);
  assert.equal(a.keyring.epoch, 1);
});

test('a joiner gets the current key; during an activation delay the next one as well', async () => {
  const {timers, a, byId} = await meeting();
  await a.keyring.rotate();
  const d = await participant('p-d', timers);
  await d.keyring.onJoin(a.asPeer); // from welcome.participants
  const envelopes = await a.keyring.onJoin(d.asPeer);
  assert.equal(envelopes.length, 2);
  const results = await deliver('p-a', envelopes, {...byId, 'p-d': d});
  assert.deepEqual(results.map((r) => r.epoch), [0, 1]);
  assert.deepEqual(await receive(d.receiver, await send(a.keyring)), FRAME); // epoch 0
  timers.advance(DEFAULT_ACTIVATION_DELAY_MS);
  assert.deepEqual(await receive(d.receiver, await send(a.keyring)), FRAME); // epoch 1
  // after the activation, a joiner gets one envelope
  const e = await participant('p-e', timers);
  assert.equal((await a.keyring.onJoin(e.asPeer)).length, 1);
});

test('a replayed old envelope cannot bring an old key back (stale); a re-delivered one is a duplicate', async () => {
  const timers = new FakeTimers();
  const [a, b] = await Promise.all([participant('p-a', timers), participant('p-b', timers)]);
  const byId = {'p-a': a, 'p-b': b};
  await b.keyring.onJoin(a.asPeer);
  const epoch0 = await a.keyring.onJoin(b.asPeer);
  assert.equal((await deliver('p-a', epoch0, byId))[0].status, 'accepted');
  assert.equal((await deliver('p-a', epoch0, byId))[0].status, 'duplicate');
  const oldKid = a.keyring.kid;

  await deliver('p-a', await a.keyring.rotate(), byId);
  timers.advance(DEFAULT_ACTIVATION_DELAY_MS + DEFAULT_OVERLAP_MS);
  assert.equal(b.receiver.hasKey(oldKid), false);
  await assert.rejects(b.keyring.accept('p-a', epoch0[0].envelope), refused('stale'));
  assert.equal(b.receiver.hasKey(oldKid), false);
  assert.equal(b.keyring.receivedEpoch('p-a'), 1);
});

test('KIDs that do not fit the sender are refused (kid)', async () => {
  const {a, b} = await meeting();
  const baseKey = crypto.getRandomValues(new Uint8Array(32));
  const prefix = a.keyring.prefix;
  // KID and epoch disagree
  let envelope = await sealSenderKey(a.device, 'p-a', b.asPeer, {kid: makeKid(prefix, 5), epoch: 6, baseKey});
  await assert.rejects(b.keyring.accept('p-a', envelope), refused('kid'));
  // another prefix than A's
  envelope = await sealSenderKey(a.device, 'p-a', b.asPeer, {kid: makeKid((prefix + 1n) & 0xffffffffn, 5), epoch: 5, baseKey});
  await assert.rejects(b.keyring.accept('p-a', envelope), refused('kid'));
  // C's device claims A's prefix
  const c = (await meeting()).c; // an unrelated device; make it a peer of B under a new id
  await b.keyring.onJoin({...c.asPeer, participantId: 'p-x'});
  envelope = await sealSenderKey(c.device, 'p-x', b.asPeer, {kid: makeKid(prefix, 3), epoch: 3, baseKey});
  await assert.rejects(b.keyring.accept('p-x', envelope), refused('kid'));
  // A's key is untouched
  assert.deepEqual(await receive(b.receiver, await send(a.keyring)), FRAME);
});

test('a bad envelope is refused and the meeting goes on', async () => {
  const {a, b, byId} = await meeting();
  const [good] = await a.keyring.rotate().then((list) => list.filter((e) => e.to === 'p-b'));
  const bytes = /** @type {Uint8Array} */ (b64urlDecode(good.envelope));
  bytes[100] ^= 0x80;
  await assert.rejects(b.keyring.accept('p-a', b64urlEncode(bytes)), refused('signature'));
  await assert.rejects(b.keyring.accept('p-a', 'garbage!'), refused('malformed'));
  await assert.rejects(b.keyring.accept('p-unknown', good.envelope), refused('sender'));
  assert.equal(b.keyring.receivedEpoch('p-a'), 0);
  // the real one still works, and so do frames
  assert.equal((await deliver('p-a', [good], byId))[0].status, 'accepted');
  a.keyring.activateNow();
  assert.deepEqual(await receive(b.receiver, await send(a.keyring)), FRAME);
});

test('a peer whose device keys change is treated as new: its old keys are dropped', async () => {
  const {timers, a, b} = await meeting();
  const aKid = a.keyring.kid;
  assert.ok(b.receiver.hasKey(aKid));
  const other = await participant('p-a', timers);
  await b.keyring.onJoin(other.asPeer); // same participant id, other device
  assert.equal(b.receiver.hasKey(aKid), false);
  assert.equal(b.keyring.receivedEpoch('p-a'), null);
});

test('peerFromParticipant: only devices that can do E2EE get keys', () => {
  const device = {id: 'd', x25519: 'x', ed25519: 'e', e2ee: true};
  assert.deepEqual(peerFromParticipant({id: 'p', device}), {participantId: 'p', x25519: 'x', ed25519: 'e'});
  assert.equal(peerFromParticipant({id: 'p', device: null}), null);
  assert.equal(peerFromParticipant({id: 'p', device: {...device, e2ee: false}}), null);
});

test('close: timers cancelled, keys removed, further use refused', async () => {
  const {timers, a, b, c} = await meeting();
  const [bKid, cKid] = [b.keyring.kid, c.keyring.kid];
  c.keyring.close();
  await a.keyring.rotate(); // an activation timer
  await deliver('p-b', (await b.keyring.rotate()).filter((e) => e.to === 'p-a'), {'p-a': a}); // an overlap timer at A
  assert.ok(a.receiver.hasKey(bKid) && a.receiver.hasKey(cKid));
  a.keyring.close();
  b.keyring.close();
  assert.equal(timers.pending.size, 0);
  assert.equal(a.receiver.hasKey(bKid), false);
  assert.equal(a.receiver.hasKey(cKid), false);
  await assert.rejects(a.keyring.rotate(), /closed/);
  await assert.rejects(a.keyring.accept('p-b', 'x'), /closed/);
  assert.throws(() => a.keyring.sender, /closed/);
});

test('leaves in a burst: keys dropped at each, one rotation for all of them', async () => {
  const {timers, a, b, c, byId} = await meeting();
  const d = await participant('p-d', timers);
  byId['p-d'] = d;
  await d.keyring.envelopesFor([a.asPeer]); // D learns A from its welcome
  await deliver('p-a', await a.keyring.onJoin(d.asPeer), byId);
  const cKid = c.keyring.kid;

  assert.deepEqual(await a.keyring.onLeave('p-c', {coalesce: true}), []);
  assert.equal(a.receiver.hasKey(cKid), false, 'the leaver\'s key goes at once');
  assert.deepEqual(await a.keyring.onLeave('p-d', {coalesce: true}), []);
  assert.equal(a.keyring.epoch, 0, 'no rotation yet');

  const envelopes = await a.keyring.settleLeaves();
  assert.deepEqual(envelopes.map((e) => e.to), ['p-b'], 'one new key, for those still here');
  assert.deepEqual(await a.keyring.settleLeaves(), [], 'settled once');
  await deliver('p-a', envelopes, byId);
  timers.advance(DEFAULT_ACTIVATION_DELAY_MS);
  assert.equal(a.keyring.epoch, 1);
  const frame = await send(a.keyring);
  assert.deepEqual(await receive(b.receiver, frame), FRAME);
  await assert.rejects(receive(c.receiver, frame), sframeRefused('unknown-kid'));
  await assert.rejects(receive(d.receiver, frame), sframeRefused('unknown-kid'));
});

test('a leaver that never had our key owes no rotation', async () => {
  const timers = new FakeTimers();
  const a = await participant('p-a', timers);
  const b = await participant('p-b', timers);
  await b.keyring.envelopesFor([a.asPeer]); // B knows A; A never sealed its key to B
  assert.deepEqual(await a.keyring.onLeave('p-b', {coalesce: true}), []);
  assert.deepEqual(await a.keyring.settleLeaves(), []);
  assert.equal(a.keyring.epoch, 0);
});
