// Chat's MLS groups joined by external commit (js/chat/mls.js, js/chat/mls-external.js): the
// delivery service, played by the test, keeps the latest GroupInfo of the group and orders the
// commits (one wins each epoch); a joining device needs no member to be online.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import * as mls from '../../src/rathaus/web/static/js/chat/mls.js';
import * as ts from '../../src/rathaus/web/static/vendor/ts-mls/dist/src/index.js';

const text = new TextEncoder();
const untext = new TextDecoder();
const SFRAME = 'SFrame 1.0 Base Key';

/** The key directory: device id -> Ed25519 public key (what Rathaus publishes). */
function directory() {
  /** @type {Map<string, Uint8Array>} */
  const keys = new Map();
  /** @type {mls.Authenticate} */
  const authenticate = async (identity, key) => {
    const known = keys.get(identity);
    return known !== undefined && Buffer.from(known).equals(Buffer.from(key));
  };
  const device = async () => {
    const {mls: d} = await mls.newDevice({authenticate});
    keys.set(d.id, d.signatureKey);
    return d;
  };
  return {keys, authenticate, device};
}

/** @param {string} expected @returns {(error: unknown) => boolean} */
const code = (expected) => (error) => {
  assert.ok(error instanceof mls.MlsChatError, String(error));
  assert.equal(error.code, expected, error.message);
  return true;
};

/** @param {string[]} expected @returns {(error: unknown) => boolean} */
const oneOf = (expected) => (error) => {
  assert.ok(error instanceof mls.MlsChatError, String(error));
  assert.ok(expected.includes(error.code), `${error.code}: ${error.message}`);
  return true;
};

/** @param {mls.Group} group @param {string} message */
const send = (group, message) => mls.encrypt(group, text.encode(message));

/** @param {mls.Group} group @param {Uint8Array} bytes */
const read = async (group, bytes) => untext.decode((await mls.decrypt(group, bytes)).plaintext);

/** @param {mls.Group} group */
const exported = async (group) => Buffer.from(await mls.exporter(group, SFRAME, 32)).toString('hex');

/** @param {mls.Group[]} groups */
async function sameEpochSecret(groups) {
  assert.equal(new Set(await Promise.all(groups.map(exported))).size, 1);
}

/**
 * The delivery service's side: the latest GroupInfo, and every member applying an accepted commit.
 * `members` are the groups that follow the room (the committer's included).
 */
function deliveryService() {
  const service = {
    /** @type {Uint8Array | null} */
    groupInfo: null,
    /** @type {mls.Group[]} */
    members: [],
    /**
     * Accepts a commit: every member applies it; the GroupInfo that came with it is kept.
     * @param {{commit: Uint8Array, groupInfo: Uint8Array}} made
     * @param {mls.Group} [joiner] a group joined by this external commit
     */
    async accept(made, joiner) {
      if (joiner) service.members.push(joiner);
      const results = [];
      for (const g of service.members) results.push(await mls.processCommit(g, made.commit));
      service.groupInfo = made.groupInfo;
      return results;
    },
  };
  return service;
}

/** Anna's room (a group of one), published; Ben joined by external commit. */
async function room() {
  const dir = directory();
  const [annaDevice, benDevice] = [await dir.device(), await dir.device()];
  const anna = await mls.createGroup(annaDevice, 'room-1');
  const ds = deliveryService();
  ds.members.push(anna);
  ds.groupInfo = await mls.groupInfo(anna);
  const joined = await mls.joinExternal(benDevice, ds.groupInfo);
  await ds.accept(joined, joined.group);
  return {dir, ds, annaDevice, benDevice, anna, ben: joined.group};
}

test('Ben joins Anna\'s group by external commit from the GroupInfo she published', async () => {
  const dir = directory();
  const annaDevice = await dir.device();
  const benDevice = await dir.device();
  const anna = await mls.createGroup(annaDevice, 'room-1');
  const info = await mls.groupInfo(anna);
  assert.equal(ts.decodeMlsMessage(info, 0)?.[0].wireformat, 'mls_group_info');

  const {group: ben, commit, groupInfo} = await mls.joinExternal(benDevice, info, {groupId: 'room-1'});
  // Ben's group is at the commit's epoch already; Anna's moves when the delivery service hands it to her.
  assert.equal(ben.epoch, 1n);
  assert.equal(anna.epoch, 0n);
  assert.deepEqual(ben.members().map((m) => m.identity), [annaDevice.id, benDevice.id]);
  const message = ts.decodeMlsMessage(commit, 0)?.[0];
  assert.ok(message?.wireformat === 'mls_public_message');
  assert.equal(message.publicMessage.content.sender.senderType, 'new_member_commit');

  const annaSaw = await mls.processCommit(anna, commit);
  assert.deepEqual(annaSaw, {epoch: 1n, own: false, superseded: false, joined: [benDevice.id], left: [], active: true});
  // Handed back to Ben, his own commit changes nothing.
  const secret = await exported(ben);
  const benSaw = await mls.processCommit(ben, commit);
  assert.deepEqual(benSaw, {epoch: 1n, own: true, superseded: false, joined: [benDevice.id], left: [], active: true});
  assert.equal(ben.epoch, 1n);
  assert.equal(await exported(ben), secret);
  await sameEpochSecret([anna, ben]);

  assert.equal(await read(ben, await send(anna, 'Willkommen, Ben')), 'Willkommen, Ben');
  const reply = await mls.decrypt(anna, await send(ben, 'Danke, Anna'));
  assert.equal(untext.decode(reply.plaintext), 'Danke, Anna');
  assert.deepEqual(reply.sender, {leafIndex: 1, identity: benDevice.id});
  // The GroupInfo Ben's commit returned is the new epoch's: the next joiner uses it.
  assert.equal(ts.decodeMlsMessage(groupInfo, 0)?.[0].wireformat, 'mls_group_info');
});

test('Carl joins from the GroupInfo that came with Ben\'s commit; every commit returns one', async () => {
  const {dir, ds, anna, ben} = await room();
  const carlDevice = await dir.device();
  const carl = await mls.joinExternal(carlDevice, /** @type {Uint8Array} */ (ds.groupInfo));
  const seen = await ds.accept(carl, carl.group);
  assert.deepEqual(seen.map((r) => [r.own, r.joined]), [[false, [carlDevice.id]], [false, [carlDevice.id]], [true, [carlDevice.id]]]);
  for (const g of [anna, ben, carl.group]) assert.equal(g.epoch, 2n);
  await sameEpochSecret([anna, ben, carl.group]);
  const hello = await send(carl.group, 'Hallo zusammen');
  assert.equal(await read(anna, hello), 'Hallo zusammen');
  assert.equal(await read(ben, hello), 'Hallo zusammen');

  // A member's update returns the GroupInfo of its epoch as well, and a device joins from that one.
  const updated = await mls.update(ben);
  await ds.accept(updated);
  const doraDevice = await dir.device();
  const dora = await mls.joinExternal(doraDevice, updated.groupInfo);
  await ds.accept(dora, dora.group);
  assert.equal(dora.group.epoch, 4n);
  await sameEpochSecret([anna, ben, carl.group, dora.group]);
  assert.equal(await read(dora.group, await send(anna, 'und Dora')), 'und Dora');
});

test('two external commits race for one epoch: the first ordered wins, the other joins again', async () => {
  const {dir, ds, anna, ben} = await room();
  const [carlDevice, doraDevice] = [await dir.device(), await dir.device()];
  const info = /** @type {Uint8Array} */ (ds.groupInfo);
  const carl = await mls.joinExternal(carlDevice, info);
  const dora = await mls.joinExternal(doraDevice, info);
  assert.equal(carl.group.epoch, dora.group.epoch);

  // The delivery service orders Carl's first.
  await ds.accept(carl, carl.group);
  // Dora's, for the epoch that is over, is refused wherever it arrives, and changes nothing.
  const secret = await exported(anna);
  for (const g of [anna, ben, carl.group]) await assert.rejects(mls.processCommit(g, dora.commit), code('stale-epoch'));
  assert.equal(await exported(anna), secret);
  assert.equal(anna.members().length, 3);

  // Dora drops her group and joins again from the GroupInfo of Carl's commit.
  const again = await mls.joinExternal(doraDevice, /** @type {Uint8Array} */ (ds.groupInfo));
  await ds.accept(again, again.group);
  const everyone = [anna, ben, carl.group, again.group];
  for (const g of everyone) assert.equal(g.epoch, 3n);
  await sameEpochSecret(everyone);
  assert.deepEqual(again.group.members().map((m) => m.identity).sort(),
    anna.members().map((m) => m.identity).sort());
  assert.equal(await read(carl.group, await send(again.group, 'jetzt ich')), 'jetzt ich');
});

test('resync: a device that lost its state replaces its old leaf by an external commit', async () => {
  const {ds, anna, ben, benDevice} = await room();
  const old = ben; // the state Ben's device lost (kept here to show what it can no longer do)
  const info = await mls.groupInfo(anna);
  // Without resync, a group that has this device already is refused.
  await assert.rejects(mls.joinExternal(benDevice, info), code('rejected'));

  const resynced = await mls.joinExternal(benDevice, info, {resync: true});
  ds.members = [anna];
  const [annaSaw, benSaw] = await ds.accept(resynced, resynced.group);
  assert.deepEqual([annaSaw.joined, annaSaw.left], [[], []]);
  assert.equal(anna.members().length, 2);
  assert.deepEqual(anna.members().map((m) => m.identity), [anna.members()[0].identity, benDevice.id]);
  assert.deepEqual(benSaw, {epoch: anna.epoch, own: true, superseded: false, joined: [], left: [], active: true});
  await sameEpochSecret([anna, resynced.group]);

  const secret = await send(anna, 'nach dem Neuanfang');
  assert.equal(await read(resynced.group, secret), 'nach dem Neuanfang');
  await assert.rejects(mls.decrypt(old, secret), (error) => error instanceof mls.MlsChatError);
  // The old copy, handed the resync commit, learns that it is over.
  const oldSaw = await mls.processCommit(old, resynced.commit);
  assert.deepEqual([oldSaw.own, oldSaw.active], [false, false]);
  assert.equal(old.active, false);
  await assert.rejects(send(old, 'noch da?'), code('inactive'));
  await assert.rejects(mls.decrypt(old, secret), (error) => error instanceof mls.MlsChatError);
});

test('resync of a device the group does not have is an ordinary join', async () => {
  const {dir, ds, anna, ben} = await room();
  const carlDevice = await dir.device();
  const carl = await mls.joinExternal(carlDevice, /** @type {Uint8Array} */ (ds.groupInfo), {resync: true});
  const [annaSaw] = await ds.accept(carl, carl.group);
  assert.deepEqual(annaSaw.joined, [carlDevice.id]);
  assert.equal(anna.members().length, 3);
  await sameEpochSecret([anna, ben, carl.group]);
});

test('a GroupInfo that is tampered with, not a GroupInfo, or of another group is refused', async () => {
  const {dir, ds, anna} = await room();
  const carlDevice = await dir.device();
  const info = /** @type {Uint8Array} */ (ds.groupInfo);
  // The signature is the GroupInfo's last field.
  for (const at of [info.length - 1, info.length - 20]) {
    const tampered = info.slice();
    tampered[at] ^= 0x01;
    await assert.rejects(mls.joinExternal(carlDevice, tampered), oneOf(['rejected', 'malformed']), `byte ${at} flipped`);
  }
  await assert.rejects(mls.joinExternal(carlDevice, info.subarray(0, info.length - 1)), code('malformed'));
  await assert.rejects(mls.joinExternal(carlDevice, new Uint8Array([1, 2, 3])), code('malformed'));
  await assert.rejects(mls.joinExternal(carlDevice, (await mls.keyPackage(carlDevice)).bytes), code('malformed'));
  await assert.rejects(mls.joinExternal(carlDevice, (await mls.update(anna)).commit), code('malformed'));
  await assert.rejects(mls.joinExternal(carlDevice, info, {groupId: 'room-2'}), code('malformed'));
  // The untouched one still works.
  const carl = await mls.joinExternal(carlDevice, info, {groupId: 'room-1'});
  assert.equal(carl.group.members().length, 3);
});

test('a GroupInfo whose signer (or any leaf) the key directory refuses is refused', async () => {
  const {dir, ds, annaDevice, benDevice} = await room();
  const carlDevice = await dir.device();
  const info = /** @type {Uint8Array} */ (ds.groupInfo); // signed by Ben, whose commit made it
  const benKey = /** @type {Uint8Array} */ (dir.keys.get(benDevice.id));
  dir.keys.set(benDevice.id, annaDevice.signatureKey);
  await assert.rejects(mls.joinExternal(carlDevice, info), code('rejected'));
  dir.keys.delete(benDevice.id);
  await assert.rejects(mls.joinExternal(carlDevice, info), code('rejected'));
  dir.keys.set(benDevice.id, benKey);
  dir.keys.delete(annaDevice.id);
  await assert.rejects(mls.joinExternal(carlDevice, info), code('rejected'));
  dir.keys.set(annaDevice.id, annaDevice.signatureKey);
  assert.ok((await mls.joinExternal(carlDevice, info)).group.active);
});

test('members refuse an external commit that removes someone other than the joiner', async () => {
  const {dir, ds, anna, ben, benDevice} = await room();
  const malloryDevice = await dir.device();
  // ts-mls itself would let an external joiner remove any one leaf: made here with ts-mls directly.
  const decoded = ts.decodeMlsMessage(/** @type {Uint8Array} */ (ds.groupInfo), 0)?.[0];
  assert.ok(decoded?.wireformat === 'mls_group_info');
  const kp = await mls.keyPackage(malloryDevice);
  const config = {
    ...malloryDevice.config,
    keyPackageEqualityConfig: {
      ...malloryDevice.config.keyPackageEqualityConfig,
      /** @param {unknown} _ @param {{signaturePublicKey: Uint8Array}} leaf */
      compareKeyPackageToLeafNode: (_, leaf) => Buffer.from(leaf.signaturePublicKey).equals(Buffer.from(benDevice.signatureKey)),
    },
  };
  const {publicMessage} = await ts.joinGroupExternal(decoded.groupInfo, kp.publicPackage, kp.privatePackage, true,
    malloryDevice.cs, undefined, config);
  const commit = ts.encodeMlsMessage({version: 'mls10', wireformat: 'mls_public_message', publicMessage});
  const secret = await exported(anna);
  await assert.rejects(mls.processCommit(anna, commit), code('rejected'));
  await assert.rejects(mls.processCommit(ben, commit), code('rejected'));
  assert.equal(await exported(anna), secret);
  assert.equal(anna.members().length, 2);
  assert.equal(ben.active, true);
});

test('one commit removes several leaves (a user\'s devices), by identity or leaf index', async () => {
  const {dir, ds, anna, ben, benDevice} = await room();
  const [carlDevice, doraDevice] = [await dir.device(), await dir.device()];
  const carl = await mls.joinExternal(carlDevice, /** @type {Uint8Array} */ (ds.groupInfo));
  await ds.accept(carl, carl.group);
  const dora = await mls.joinExternal(doraDevice, /** @type {Uint8Array} */ (ds.groupInfo));
  await ds.accept(dora, dora.group);

  await assert.rejects(mls.remove(anna, [benDevice.id, anna.ownLeafIndex]), code('not-member'));
  await assert.rejects(mls.remove(anna, [benDevice.id, 'no-such-device']), code('not-member'));
  await assert.rejects(mls.remove(anna, []), TypeError);
  assert.equal(anna.pendingCommit, null);

  const removal = await mls.remove(anna, [benDevice.id, carl.group.ownLeafIndex, benDevice.id]);
  const [annaSaw, benSaw, carlSaw, doraSaw] = await ds.accept(removal);
  assert.deepEqual([annaSaw.own, annaSaw.left.sort()], [true, [benDevice.id, carlDevice.id].sort()]);
  assert.deepEqual(doraSaw.left.sort(), [benDevice.id, carlDevice.id].sort());
  assert.deepEqual([benSaw.active, carlSaw.active], [false, false]);
  assert.deepEqual(anna.members().map((m) => m.identity), dora.group.members().map((m) => m.identity));
  assert.equal(anna.members().length, 2);

  const secret = await send(anna, 'nur wir zwei');
  assert.equal(await read(dora.group, secret), 'nur wir zwei');
  await assert.rejects(mls.decrypt(ben, secret), (error) => error instanceof mls.MlsChatError);
  await assert.rejects(mls.groupInfo(ben), code('inactive'));
  // A device removed joins again from the removal's GroupInfo (if the delivery service lets it).
  const back = await mls.joinExternal(benDevice, removal.groupInfo);
  assert.equal(back.group.members().length, 3);
});

test('a group joined by external commit is saved and restored with its commit still to come back', async () => {
  const dir = directory();
  const [annaDevice, benDevice] = [await dir.device(), await dir.device()];
  const anna = await mls.createGroup(annaDevice, 'room-1');
  const joined = await mls.joinExternal(benDevice, await mls.groupInfo(anna));
  const saved = structuredClone(await mls.saveGroup(joined.group));
  assert.ok(saved.external && saved.external.commit instanceof Uint8Array);
  const ben = mls.loadGroup(benDevice, saved);
  await mls.processCommit(anna, joined.commit);
  assert.equal((await mls.processCommit(ben, joined.commit)).own, true);
  assert.equal(await read(ben, await send(anna, 'nach dem Neuladen')), 'nach dem Neuladen');
  // Once handed back, it is like any past commit.
  await assert.rejects(mls.processCommit(ben, joined.commit), code('stale-epoch'));
});
