// The chat history backup (js/chat/backup.js): sealed with a passphrase (PBKDF2 600k, AES-GCM),
// opened only with it and only for its account, merged into a device's rooms without losing what
// the device has.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {BackupError, ITERATIONS, exportBackup, importBackup, merge} from '../../src/rathaus/web/static/js/chat/backup.js';
import {MemoryGroupStore} from '../../src/rathaus/web/static/js/chat/group-store.js';

const PASS = 'Rathausplatz 1, 80331';

/** @param {number} seq @param {string | null} body @param {object} [more] */
function message(seq, body, more = {}) {
  return {seq, user: 'olga', device: 'd1', at: 1000 + seq, body, problem: null, reply: null,
    edited: false, deleted: false, reactions: {}, file: null, ...more};
}

async function oldDevice() {
  const store = new MemoryGroupStore();
  await store.put('room:ausschuss', {saved: {state: new Uint8Array([1])}, position: 9, messages: [
    message(2, 'Vorlage'), message(3, null, {problem: 'before-join'}), message(4, null, {deleted: true}),
    message(5, 'Antwort', {reactions: {thumbs_up: ['mia'], ok: ['x']}}),
  ]});
  await store.put('room:leer', {saved: null, position: 1, messages: []});
  await store.put('key-packages', [{secret: 'not for the backup'}]);
  return store;
}

test('a backup holds the readable messages, sealed: none of it in the clear', async () => {
  const {bytes, rooms, messages} = await exportBackup(await oldDevice(), PASS, 'olga');
  assert.equal(rooms, 1);
  assert.equal(messages, 2);
  const text = new TextDecoder('latin1').decode(bytes);
  assert.ok(text.startsWith('RCB1'));
  for (const clear of ['Vorlage', 'Antwort', 'ausschuss', 'olga', 'not for the backup']) assert.ok(!text.includes(clear), clear);
  assert.equal(new DataView(bytes.buffer).getUint32(20), ITERATIONS);
});

test('a new device imports it and keeps what it has; the old device keys stay behind', async () => {
  const {bytes} = await exportBackup(await oldDevice(), PASS, 'olga');
  const fresh = new MemoryGroupStore();
  const mine = {saved: {state: new Uint8Array([7])}, position: 12, messages: [
    message(2, null, {problem: 'before-join'}), message(11, 'Neu hier'),
  ]};
  await fresh.put('room:ausschuss', mine);
  assert.deepEqual(await importBackup(fresh, bytes, PASS, 'olga'), {rooms: 1, messages: 2});
  const record = await fresh.get('room:ausschuss');
  assert.deepEqual(record.messages.map((m) => [m.seq, m.body]), [[2, 'Vorlage'], [5, 'Antwort'], [11, 'Neu hier']]);
  assert.deepEqual(record.messages[1].reactions, {thumbs_up: ['mia']}); // known reactions only
  assert.deepEqual(record.saved, mine.saved); // its own group state, untouched
  assert.equal(record.position, 12);
  assert.equal(await fresh.get('key-packages'), undefined);
  assert.deepEqual(await importBackup(fresh, bytes, PASS, 'olga'), {rooms: 0, messages: 0}); // again: nothing new
});

test('a room the device has not opened yet gets the messages, and joins its group later', async () => {
  const {bytes} = await exportBackup(await oldDevice(), PASS, 'olga');
  const fresh = new MemoryGroupStore();
  await importBackup(fresh, bytes, PASS, 'olga');
  const record = await fresh.get('room:ausschuss');
  assert.equal(record.saved, null);
  assert.equal(record.position, 0);
  assert.equal(record.messages.length, 2);
});

test('refused: a short passphrase, the wrong one, an altered file, another account, another file', async () => {
  await assert.rejects(exportBackup(await oldDevice(), 'kurz', 'olga'), (e) => e instanceof BackupError && e.code === 'passphrase');
  const {bytes} = await exportBackup(await oldDevice(), PASS, 'olga');
  const fresh = new MemoryGroupStore();
  await assert.rejects(importBackup(fresh, bytes, `${PASS}!`, 'olga'), (e) => e.code === 'passphrase');
  const altered = bytes.slice();
  altered[altered.length - 1] ^= 1;
  await assert.rejects(importBackup(fresh, altered, PASS, 'olga'), (e) => e.code === 'passphrase');
  const header = bytes.slice();
  header[5] ^= 1; // the salt is bound too
  await assert.rejects(importBackup(fresh, header, PASS, 'olga'), (e) => e.code === 'passphrase');
  const weaker = bytes.slice();
  new DataView(weaker.buffer).setUint32(20, 1000);
  await assert.rejects(importBackup(fresh, weaker, PASS, 'olga'), (e) => e.code === 'not-a-backup');
  await assert.rejects(importBackup(fresh, bytes, PASS, 'mia'), (e) => e.code === 'other-user');
  await assert.rejects(importBackup(fresh, new TextEncoder().encode('{"rooms": {}}'), PASS, 'olga'), (e) => e.code === 'not-a-backup');
  const other = new TextEncoder().encode(`{"rooms": {"a": []}, "padding": "${'x'.repeat(64)}"}`);
  await assert.rejects(importBackup(fresh, other, PASS, 'olga'), (e) => e.code === 'not-a-backup'); // no magic
  assert.deepEqual(await fresh.keys(), []); // nothing written by a refusal
});

test('merged messages are rebuilt field by field: what is malformed or dangerous is dropped', () => {
  const record = {saved: null, position: 0, messages: []};
  const good = message(7, 'Gut', {file: null});
  const added = merge(record, [
    good,
    message(8, 42), // no text
    message(9, 'Zeit?', {at: 'gestern'}),
    message(10, 'Pfad', {file: {blob: '../../rooms/x/roles/y', key: 'k'.repeat(43), iv: 'i'.repeat(16), name: 'a', type: '', size: 1, sha256: 's'.repeat(43)}}),
    message(0, 'Null'),
    message(11, 'Reaktionen', {reactions: {__proto__: {thumbs_up: ['x']}, heart: 'mia', party: ['mia', 7]}}),
    {seq: 12},
    null,
  ]);
  assert.deepEqual(added.map((m) => m.seq), [7, 11]);
  assert.deepEqual(record.messages[1].reactions, {party: ['mia']});
  assert.equal(Object.getPrototypeOf(record.messages[1].reactions), Object.prototype);
});

test('a message this device knows as deleted never comes back, and its own are not "shared"', () => {
  const record = {saved: null, position: 9, gone: [3], messages: [message(4, null, {deleted: true}), message(5, 'Da')]};
  const added = merge(record, [message(3, 'Gelöscht'), message(4, 'Auch gelöscht'), message(5, 'Anders'), message(6, 'Neu')], 'olga');
  assert.deepEqual(added.map((m) => [m.seq, m.body, m.sharedBy]), [[6, 'Neu', 'olga']]);
  assert.equal(record.messages.find((m) => m.seq === 5).body, 'Da');
  assert.equal(record.messages.find((m) => m.seq === 5).sharedBy, undefined);
});
