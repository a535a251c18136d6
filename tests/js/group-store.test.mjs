// The device's store of chat group states (js/chat/group-store.js), in memory: IndexedDB is not in
// Node; the browser tests cover IndexedDbGroupStore.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import * as mls from '../../src/rathaus/web/static/js/chat/mls.js';
import {MemoryGroupStore, defaultGroupStore} from '../../src/rathaus/web/static/js/chat/group-store.js';

test('records are put, read back, listed and deleted by room key', async () => {
  const store = new MemoryGroupStore();
  assert.equal(await store.get('room:a'), undefined);
  assert.deepEqual(await store.keys(), []);
  await store.put('room:b', {saved: null, position: 3, name: 'B'});
  await store.put('room:a', {saved: null, position: 1});
  assert.deepEqual(await store.get('room:b'), {saved: null, position: 3, name: 'B'});
  assert.deepEqual(await store.keys(), ['room:a', 'room:b']);
  await store.put('room:a', {saved: null, position: 2});
  assert.deepEqual(await store.get('room:a'), {saved: null, position: 2});
  await store.delete('room:a');
  await store.delete('room:none');
  assert.equal(await store.get('room:a'), undefined);
  assert.deepEqual(await store.keys(), ['room:b']);
});

test('a stored record is a copy, as IndexedDB keeps it: changing either changes nothing of the other', async () => {
  const store = new MemoryGroupStore();
  const value = {saved: null, position: 1, bytes: new Uint8Array([1, 2, 3])};
  await store.put('room:a', value);
  value.position = 9;
  value.bytes[0] = 7;
  const read = await store.get('room:a');
  assert.deepEqual(read, {saved: null, position: 1, bytes: new Uint8Array([1, 2, 3])});
  read.position = 5;
  assert.equal((await store.get('room:a')).position, 1);
});

test('a saved group goes through the store and is restored', async () => {
  const authenticate = async () => true;
  const {mls: annaDevice} = await mls.newDevice({authenticate});
  const {mls: benDevice} = await mls.newDevice({authenticate});
  const anna = await mls.createGroup(annaDevice, 'room-1');
  const joined = await mls.joinExternal(benDevice, await mls.groupInfo(anna));
  await mls.processCommit(anna, joined.commit);

  const store = new MemoryGroupStore();
  await store.put('room:room-1', {saved: await mls.saveGroup(joined.group), position: 4});
  const record = await store.get('room:room-1');
  assert.equal(record.position, 4);
  const ben = mls.loadGroup(benDevice, record.saved);
  assert.equal(ben.epoch, anna.epoch);
  const message = await mls.encrypt(anna, new TextEncoder().encode('gespeichert'));
  assert.equal(new TextDecoder().decode((await mls.decrypt(ben, message)).plaintext), 'gespeichert');
});

test('without IndexedDB (Node), the default store is the in-memory one', () => {
  assert.ok(defaultGroupStore() instanceof MemoryGroupStore);
});
