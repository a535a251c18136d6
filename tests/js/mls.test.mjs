// Chat's MLS groups (js/chat/mls.js): three devices, Anna, Ben and Carl, and a delivery service
// played by the test (it orders commits: exactly one wins an epoch). The RFC's test vectors are in
// mls-vectors.test.mjs.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import * as mls from '../../src/rathaus/web/static/js/chat/mls.js';
import {b64urlDecode} from '../../src/rathaus/web/static/js/e2ee/encoding.js';

const text = new TextEncoder();
const untext = new TextDecoder();
const SFRAME = 'SFrame 1.0 Base Key';

/** The key directory: device id -> Ed25519 public key (what Rathaus publishes). */
function directory() {
  /** @type {Map<string, Uint8Array>} */
  const keys = new Map();
  /** @type {import('../../src/rathaus/web/static/js/chat/mls.js').Authenticate} */
  const authenticate = async (identity, key) => {
    const known = keys.get(identity);
    return known !== undefined && Buffer.from(known).equals(Buffer.from(key));
  };
  /** A device whose keys the directory publishes. */
  const device = async () => {
    const {mls: d} = await mls.newDevice({authenticate});
    keys.set(d.id, d.signatureKey);
    return d;
  };
  return {keys, authenticate, device};
}

/**
 * @param {string} code
 * @returns {(error: unknown) => boolean}
 */
const code = (code) => (error) => {
  assert.ok(error instanceof mls.MlsChatError, String(error));
  assert.equal(error.code, code, error.message);
  return true;
};

/** @param {mls.Group} group @param {string} message */
const send = (group, message) => mls.encrypt(group, text.encode(message));

/** @param {mls.Group} group @param {Uint8Array} bytes */
const read = async (group, bytes) => untext.decode((await mls.decrypt(group, bytes)).plaintext);

/** @param {mls.Group} group */
const exported = async (group) => Buffer.from(await mls.exporter(group, SFRAME, 32)).toString('hex');

/**
 * Anna's group with Ben (and Carl if asked) joined; every commit applied by every member.
 * @param {{carl?: boolean}} [options]
 */
async function room(options = {}) {
  const dir = directory();
  const [annaDevice, benDevice, carlDevice] = [await dir.device(), await dir.device(), await dir.device()];
  const anna = await mls.createGroup(annaDevice, 'room-1');
  const benKp = await mls.keyPackage(benDevice);
  const addBen = await mls.add(anna, [benKp.bytes]);
  await mls.processCommit(anna, addBen.commit);
  const ben = await mls.join(benDevice, addBen.welcome, [benKp]);
  let carl = null;
  if (options.carl) {
    const carlKp = await mls.keyPackage(carlDevice);
    const addCarl = await mls.add(anna, [carlKp.bytes]);
    await mls.processCommit(anna, addCarl.commit);
    await mls.processCommit(ben, addCarl.commit);
    carl = await mls.join(carlDevice, addCarl.welcome, [carlKp]);
  }
  return {dir, annaDevice, benDevice, carlDevice, anna, ben, carl};
}

test('Anna creates a group, adds Ben by a welcome, and they exchange messages', async () => {
  const dir = directory();
  const annaDevice = await dir.device();
  const benDevice = await dir.device();
  const anna = await mls.createGroup(annaDevice, 'room-1');
  assert.equal(anna.epoch, 0n);
  assert.deepEqual(anna.members(), [{leafIndex: 0, identity: annaDevice.id}]);

  const benKp = await mls.keyPackage(benDevice);
  const {commit, welcome} = await mls.add(anna, [benKp.bytes]);
  // Pending until the delivery service hands the commit back.
  assert.equal(anna.epoch, 0n);
  assert.deepEqual(anna.pendingCommit, commit);
  const applied = await mls.processCommit(anna, commit);
  assert.deepEqual(applied, {epoch: 1n, own: true, superseded: false, joined: [benDevice.id], left: [], active: true});
  assert.equal(anna.pendingCommit, null);

  const ben = await mls.join(benDevice, welcome, [await mls.keyPackage(benDevice), benKp]);
  assert.equal(ben.epoch, 1n);
  assert.deepEqual(ben.members(), anna.members());
  assert.equal(ben.ownLeafIndex, 1);

  const hello = await send(anna, 'Guten Morgen, Ben');
  const fromAnna = await mls.decrypt(ben, hello);
  assert.equal(untext.decode(fromAnna.plaintext), 'Guten Morgen, Ben');
  assert.deepEqual(fromAnna.sender, {leafIndex: 0, identity: annaDevice.id});
  assert.equal(fromAnna.epoch, 1n);
  const reply = await mls.decrypt(anna, await send(ben, 'Morgen, Anna'));
  assert.equal(untext.decode(reply.plaintext), 'Morgen, Anna');
  assert.deepEqual(reply.sender, {leafIndex: 1, identity: benDevice.id});
  // Several in a row, and out of order.
  const [a, b, c] = [await send(anna, 'eins'), await send(anna, 'zwei'), await send(anna, 'drei')];
  assert.deepEqual([await read(ben, c), await read(ben, a), await read(ben, b)], ['drei', 'eins', 'zwei']);
});

test('the leaf signature key is the device\'s Ed25519 key, and the directory must vouch for it', async () => {
  const dir = directory();
  const {device, mls: annaDevice} = await mls.newDevice({authenticate: dir.authenticate});
  dir.keys.set(annaDevice.id, annaDevice.signatureKey);
  assert.deepEqual(annaDevice.signatureKey, b64urlDecode(device.publicInfo.ed25519));
  assert.equal(device.ed25519.privateKey.extractable, false);
  const anna = await mls.createGroup(annaDevice, 'room-1');

  // A device the directory does not know, or knows with another key: its key package is refused.
  const {mls: stranger} = await mls.newDevice({authenticate: dir.authenticate});
  await assert.rejects(mls.add(anna, [(await mls.keyPackage(stranger)).bytes]), code('rejected'));
  dir.keys.set(stranger.id, annaDevice.signatureKey);
  await assert.rejects(mls.add(anna, [(await mls.keyPackage(stranger)).bytes]), code('rejected'));
  assert.equal(anna.pendingCommit, null);
  // A key package claiming Anna's device id with another key is refused as well.
  const {mls: impostor} = await mls.newDevice({authenticate: dir.authenticate});
  const forged = {...impostor, id: annaDevice.id, identity: annaDevice.identity};
  await assert.rejects(mls.add(anna, [(await mls.keyPackage(forged)).bytes]), code('rejected'));
});

test('Carl, added later, cannot read what was said before he joined', async () => {
  const {anna, ben, carlDevice} = await room();
  const before = await send(anna, 'vor Carl');
  assert.equal(await read(ben, before), 'vor Carl');

  const carlKp = await mls.keyPackage(carlDevice);
  const {commit, welcome} = await mls.add(anna, [carlKp.bytes]);
  await mls.processCommit(anna, commit);
  const benSaw = await mls.processCommit(ben, commit);
  assert.deepEqual(benSaw.joined, [carlDevice.id]);
  const carl = await mls.join(carlDevice, welcome, [carlKp]);
  assert.equal(carl.epoch, 2n);

  await assert.rejects(mls.decrypt(carl, before), code('stale-epoch'));
  const after = await send(anna, 'mit Carl');
  assert.equal(await read(carl, after), 'mit Carl');
  assert.equal(await read(ben, after), 'mit Carl');
  assert.equal(await read(anna, await send(carl, 'Hallo zusammen')), 'Hallo zusammen');
});

test('Anna removes Ben: Ben cannot read what is said after his removal', async () => {
  const {anna, ben, carl, benDevice} = await room({carl: true});
  assert.ok(carl);
  // Ben keeps a copy of his state that ignores the removal (a device that does not play along).
  const stubborn = mls.loadGroup(benDevice, await mls.saveGroup(ben));

  const {commit} = await mls.remove(anna, benDevice.id);
  assert.deepEqual((await mls.processCommit(anna, commit)).left, [benDevice.id]);
  assert.deepEqual((await mls.processCommit(carl, commit)).left, [benDevice.id]);
  const benSaw = await mls.processCommit(ben, commit);
  assert.equal(benSaw.active, false);
  assert.equal(ben.active, false);
  assert.deepEqual(anna.members().map((m) => m.identity).includes(benDevice.id), false);

  const secret = await send(anna, 'ohne Ben');
  assert.equal(await read(carl, secret), 'ohne Ben');
  await assert.rejects(mls.decrypt(ben, secret), (error) => error instanceof mls.MlsChatError);
  await assert.rejects(mls.decrypt(stubborn, secret), code('future-epoch'));
  await assert.rejects(send(ben, 'bin ich noch da?'), code('inactive'));
  // What the stubborn copy still sends is for an epoch that is over: refused.
  await assert.rejects(mls.decrypt(anna, await send(stubborn, 'hallo?')), code('stale-epoch'));
});

test('removing by leaf index; a device cannot remove itself or a stranger', async () => {
  const {anna, ben, carl} = await room({carl: true});
  assert.ok(carl);
  await assert.rejects(mls.remove(anna, anna.ownLeafIndex), code('not-member'));
  await assert.rejects(mls.remove(anna, 'no-such-device'), code('not-member'));
  await assert.rejects(mls.remove(anna, 7), code('not-member'));
  const {commit} = await mls.remove(anna, carl.ownLeafIndex);
  await mls.processCommit(anna, commit);
  await mls.processCommit(ben, commit);
  assert.deepEqual(anna.members().map((m) => m.leafIndex), [0, 1]);
});

test('a tampered ciphertext and a replayed message are refused, and the group goes on', async () => {
  const {anna, ben} = await room();
  const message = await send(anna, 'unverändert');
  for (const at of [message.length - 1, message.length - 40, 30]) {
    const tampered = message.slice();
    tampered[at] ^= 0x01;
    await assert.rejects(mls.decrypt(ben, tampered), (error) => error instanceof mls.MlsChatError,
      `byte ${at} flipped`);
  }
  await assert.rejects(mls.decrypt(ben, message.subarray(0, message.length - 1)), code('malformed'));
  await assert.rejects(mls.decrypt(ben, new Uint8Array([1, 2, 3])), code('malformed'));
  // The refusals changed nothing: the original still decrypts, once.
  assert.equal(await read(ben, message), 'unverändert');
  await assert.rejects(mls.decrypt(ben, message), code('rejected'));
  assert.equal(await read(ben, await send(anna, 'weiter')), 'weiter');
  // A commit is not an application message, and an application message not a commit.
  const {commit} = await mls.update(anna);
  await assert.rejects(mls.decrypt(ben, commit), code('malformed'));
  await assert.rejects(mls.processCommit(ben, await send(anna, 'kein Commit')), code('malformed'));
});

test('two commits for one epoch: the delivery service lets the first win, the second fails cleanly', async () => {
  const {anna, ben, carl, annaDevice} = await room({carl: true});
  assert.ok(carl);
  const epoch = anna.epoch;
  const exporterBefore = await exported(carl);
  const fromAnna = await mls.update(anna);
  const fromBen = await mls.update(ben);
  // This device's next commit waits for the first.
  await assert.rejects(mls.update(ben), code('pending-commit'));

  // The delivery service orders Anna's first: everyone applies it.
  assert.equal((await mls.processCommit(anna, fromAnna.commit)).own, true);
  const benSaw = await mls.processCommit(ben, fromAnna.commit);
  assert.deepEqual([benSaw.own, benSaw.superseded], [false, true]);
  assert.equal(ben.pendingCommit, null);
  await mls.processCommit(carl, fromAnna.commit);
  for (const g of [anna, ben, carl]) assert.equal(g.epoch, epoch + 1n);

  // Ben's, for an epoch that is over, fails cleanly where it arrives anyway: no state changes.
  const exporterAfter = await exported(carl);
  assert.notEqual(exporterAfter, exporterBefore);
  await assert.rejects(mls.processCommit(carl, fromBen.commit), code('stale-epoch'));
  await assert.rejects(mls.processCommit(anna, fromBen.commit), code('stale-epoch'));
  assert.equal(carl.epoch, epoch + 1n);
  assert.equal(await exported(carl), exporterAfter);
  const message = await send(anna, 'nach dem Wettlauf');
  assert.equal(await read(carl, message), 'nach dem Wettlauf');
  assert.equal(await read(ben, message), 'nach dem Wettlauf');

  // Ben makes his change again, in the new epoch; it wins that one.
  const again = await mls.update(ben);
  for (const g of [anna, ben, carl]) await mls.processCommit(g, again.commit);
  const secrets = await Promise.all([anna, ben, carl].map(exported));
  assert.equal(new Set(secrets).size, 1);
  assert.equal(anna.members()[0].identity, annaDevice.id);
});

test('a commit from a later epoch says this device missed one', async () => {
  const {anna, ben, carl} = await room({carl: true});
  assert.ok(carl);
  const first = await mls.update(anna);
  await mls.processCommit(anna, first.commit);
  await mls.processCommit(ben, first.commit);
  const second = await mls.update(ben);
  await assert.rejects(mls.processCommit(carl, second.commit), code('future-epoch'));
  await mls.processCommit(carl, first.commit);
  await mls.processCommit(carl, second.commit);
  assert.equal(carl.epoch, anna.epoch + 1n);
});

test('a message of the previous epoch from a member still in the group is read', async () => {
  const {anna, ben} = await room();
  const late = await send(ben, 'kurz vor dem Commit');
  const {commit} = await mls.update(anna);
  await mls.processCommit(anna, commit);
  assert.equal(await read(anna, late), 'kurz vor dem Commit');
  await mls.processCommit(ben, commit);
  assert.equal(await read(anna, await send(ben, 'danach')), 'danach');
});

test('the exporter: one secret for all members of an epoch, another after each commit', async () => {
  const {anna, ben, carl} = await room({carl: true});
  assert.ok(carl);
  const first = await Promise.all([anna, ben, carl].map(exported));
  assert.equal(new Set(first).size, 1);
  assert.equal((await mls.exporter(anna, SFRAME, 16)).length, 16);
  assert.notEqual(Buffer.from(await mls.exporter(anna, 'another label', 32)).toString('hex'), first[0]);
  assert.notEqual(Buffer.from(await mls.exporter(anna, SFRAME, 32, new Uint8Array([1]))).toString('hex'), first[0]);

  const {commit} = await mls.update(carl);
  for (const g of [anna, ben, carl]) await mls.processCommit(g, commit);
  const second = await Promise.all([anna, ben, carl].map(exported));
  assert.equal(new Set(second).size, 1);
  assert.notEqual(second[0], first[0]);
});

test('a saved group (for IndexedDB) is restored, pending commit included, for its own device only', async () => {
  const {anna, ben, annaDevice, benDevice} = await room();
  const {commit} = await mls.update(anna);
  const saved = await mls.saveGroup(anna);
  assert.equal(saved.version, 1);
  assert.ok(saved.state instanceof Uint8Array && saved.pending);
  const restored = mls.loadGroup(annaDevice, structuredClone(saved));
  assert.deepEqual(restored.pendingCommit, commit);
  assert.equal((await mls.processCommit(restored, commit)).own, true);
  await mls.processCommit(ben, commit);
  assert.equal(await read(ben, await send(restored, 'nach dem Neuladen')), 'nach dem Neuladen');
  assert.equal(await read(restored, await send(ben, 'angekommen')), 'angekommen');
  assert.throws(() => mls.loadGroup(benDevice, saved), code('wrong-device'));
  assert.throws(() => mls.loadGroup(annaDevice, {...saved, state: saved.state.subarray(1)}), code('malformed'));
});

test('a welcome for none of the key packages given is refused', async () => {
  const dir = directory();
  const anna = await mls.createGroup(await dir.device(), 'room-1');
  const benDevice = await dir.device();
  const benKp = await mls.keyPackage(benDevice);
  const {welcome} = await mls.add(anna, [benKp.bytes]);
  await assert.rejects(mls.join(benDevice, welcome, [await mls.keyPackage(benDevice)]), code('no-key-package'));
  await assert.rejects(mls.join(benDevice, benKp.bytes, [benKp]), code('malformed'));
});

test('operations on one group run in order even when started together', async () => {
  const {anna, ben} = await room();
  const messages = await Promise.all(['a', 'b', 'c', 'd'].map((m) => send(anna, m)));
  const read_ = await Promise.all(messages.map((m) => read(ben, m)));
  assert.deepEqual(read_, ['a', 'b', 'c', 'd']);
});
