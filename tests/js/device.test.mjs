// The device identity: non-extractable private keys, persisted in a store and reloaded from it.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  MemoryDeviceStore,
  createDevice,
  deviceCryptoSupported,
  loadOrCreateDevice,
} from '../../src/rathaus/web/static/js/e2ee/device.js';
import {b64urlDecode} from '../../src/rathaus/web/static/js/e2ee/encoding.js';

test('a new device has raw 32-byte public keys and a 16-byte id, all base64url', async () => {
  const device = await loadOrCreateDevice(new MemoryDeviceStore());
  assert.match(device.id, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(b64urlDecode(device.id)?.length, 16);
  assert.equal(device.publicInfo.id, device.id);
  assert.equal(b64urlDecode(device.publicInfo.x25519)?.length, 32);
  assert.equal(b64urlDecode(device.publicInfo.ed25519)?.length, 32);
  assert.equal(device.x25519.privateKey.algorithm.name, 'X25519');
  assert.equal(device.ed25519.privateKey.algorithm.name, 'Ed25519');
  assert.deepEqual(Object.keys(device.publicInfo).sort(), ['ed25519', 'id', 'x25519']);
});

test('private keys are non-extractable: every export fails', async () => {
  const device = await loadOrCreateDevice(new MemoryDeviceStore());
  for (const key of [device.x25519.privateKey, device.ed25519.privateKey]) {
    assert.equal(key.extractable, false);
    for (const format of /** @type {const} */ (['raw', 'pkcs8', 'jwk'])) {
      await assert.rejects(crypto.subtle.exportKey(format, key), `export ${format} of ${key.algorithm.name}`);
    }
  }
  assert.deepEqual(device.x25519.privateKey.usages, ['deriveBits']);
  assert.deepEqual(device.ed25519.privateKey.usages, ['sign']);
});

test('the device is persisted and reloaded: same id, same keys (the same CryptoKey objects)', async () => {
  const store = new MemoryDeviceStore();
  const first = await loadOrCreateDevice(store);
  const second = await loadOrCreateDevice(store);
  assert.equal(second.id, first.id);
  assert.deepEqual(second.publicInfo, first.publicInfo);
  assert.equal(second.x25519.privateKey, first.x25519.privateKey);
  // the reloaded signing key still signs, and the public key verifies it
  const data = new TextEncoder().encode('hello');
  const signature = await crypto.subtle.sign('Ed25519', second.ed25519.privateKey, data);
  assert.ok(await crypto.subtle.verify('Ed25519', first.ed25519.publicKey, signature, data));
  // what the store holds is CryptoKey objects, never exported bytes
  const stored = await store.get();
  assert.ok(stored && stored.x25519.privateKey instanceof CryptoKey && stored.ed25519.privateKey instanceof CryptoKey);
});

test('a structured clone (what IndexedDB stores) keeps the keys usable and non-extractable', async () => {
  const stored = await createDevice();
  const clone = structuredClone(stored);
  const store = new MemoryDeviceStore();
  await store.putIfAbsent(clone);
  const device = await loadOrCreateDevice(store);
  assert.equal(device.id, stored.id);
  assert.equal(device.x25519.privateKey.extractable, false);
  await assert.rejects(crypto.subtle.exportKey('pkcs8', device.x25519.privateKey));
});

test('first writer wins; an unusable stored record is replaced', async () => {
  const store = new MemoryDeviceStore();
  const a = await createDevice();
  const b = await createDevice();
  assert.equal(await store.putIfAbsent(a), a);
  assert.equal(await store.putIfAbsent(b), a);

  const broken = new MemoryDeviceStore();
  await broken.putIfAbsent(/** @type {any} */ ({version: 1, id: 'x', x25519: {}, ed25519: {}}));
  const device = await loadOrCreateDevice(broken);
  assert.equal(device.x25519.privateKey.algorithm.name, 'X25519');
});

test('two devices differ', async () => {
  const a = await loadOrCreateDevice(new MemoryDeviceStore());
  const b = await loadOrCreateDevice(new MemoryDeviceStore());
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.publicInfo.x25519, b.publicInfo.x25519);
  assert.notEqual(a.publicInfo.ed25519, b.publicInfo.ed25519);
});

test('WebCrypto has what E2EE needs here', async () => {
  assert.equal(await deviceCryptoSupported(), true);
});
