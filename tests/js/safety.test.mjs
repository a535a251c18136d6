// The safety code: the same on every screen for the same keys, whatever the order; different as
// soon as any key changes; readable by screen readers.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {MemoryDeviceStore, loadOrCreateDevice} from '../../src/rathaus/web/static/js/e2ee/device.js';
import {safetyCode} from '../../src/rathaus/web/static/js/e2ee/safety.js';
import {EnvelopeError} from '../../src/rathaus/web/static/js/e2ee/envelope.js';
import {b64urlEncode} from '../../src/rathaus/web/static/js/e2ee/encoding.js';

const devices = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateDevice(new MemoryDeviceStore())));
const keys = devices.map((d) => ({x25519: d.publicInfo.x25519, ed25519: d.publicInfo.ed25519}));

/** @template T @param {T[]} items @returns {T[][]} */
function permutations(items) {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

test('format: five groups of five digits, a display and a spoken form', async () => {
  const code = await safetyCode(keys);
  assert.equal(code.groups.length, 5);
  for (const group of code.groups) assert.match(group, /^\d{5}$/);
  assert.equal(code.display, code.groups.join(' '));
  assert.match(code.display, /^\d{5}( \d{5}){4}$/);
  assert.match(code.spoken, /^\d( \d){4}(, \d( \d){4}){4}$/);
  assert.equal(code.spoken.replace(/[ ,]/g, ''), code.display.replace(/ /g, ''));
});

test('the same for every order of the participants (all 24 of four)', async () => {
  const expected = (await safetyCode(keys)).display;
  for (const order of permutations(keys)) {
    assert.equal((await safetyCode(order)).display, expected);
  }
  // extra fields (as in a protocol Device) do not matter
  const withIds = keys.map((k, i) => ({...k, id: `device-${i}`, e2ee: true}));
  assert.equal((await safetyCode(withIds.reverse())).display, expected);
});

test('different when any key changes, or a participant is added or missing', async () => {
  const base = (await safetyCode(keys)).display;
  const other = await loadOrCreateDevice(new MemoryDeviceStore());
  for (let i = 0; i < keys.length; i++) {
    for (const field of /** @type {const} */ (['x25519', 'ed25519'])) {
      const changed = keys.map((k, j) => (j === i ? {...k, [field]: other.publicInfo[field]} : k));
      assert.notEqual((await safetyCode(changed)).display, base, `participant ${i} ${field}`);
    }
  }
  assert.notEqual((await safetyCode(keys.slice(1))).display, base);
  assert.notEqual((await safetyCode([...keys, {x25519: other.publicInfo.x25519, ed25519: other.publicInfo.ed25519}])).display, base);
  // a swapped pairing of X25519 and Ed25519 keys between two participants changes it too
  const swapped = [{x25519: keys[0].x25519, ed25519: keys[1].ed25519}, {x25519: keys[1].x25519, ed25519: keys[0].ed25519}, ...keys.slice(2)];
  assert.notEqual((await safetyCode(swapped)).display, base);
  // a duplicate participant counts
  assert.notEqual((await safetyCode([...keys, keys[0]])).display, base);
});

test('a known answer, so that every client version computes the same code', async () => {
  const fixed = [
    {x25519: b64urlEncode(new Uint8Array(32).fill(1)), ed25519: b64urlEncode(new Uint8Array(32).fill(2))},
    {x25519: b64urlEncode(new Uint8Array(32).fill(3)), ed25519: b64urlEncode(new Uint8Array(32).fill(4))},
  ];
  const {createHash} = await import('node:crypto');
  const entries = [Buffer.concat([Buffer.alloc(32, 1), Buffer.alloc(32, 2)]), Buffer.concat([Buffer.alloc(32, 3), Buffer.alloc(32, 4)])];
  const digest = createHash('sha256').update('Rathaus E2EE v1 safety code').update(Buffer.from([0, 0, 0, 2])).update(entries[0]).update(entries[1]).digest();
  const groups = [0, 1, 2, 3, 4].map((i) => String(Number(digest.readUIntBE(i * 5, 5) % 100000)).padStart(5, '0'));
  const code = await safetyCode(fixed.reverse());
  assert.deepEqual(code.groups, groups);
});

test('a key that is not a raw 32-byte public key is refused', async () => {
  await assert.rejects(safetyCode([{x25519: 'AAAA', ed25519: keys[0].ed25519}]), (e) => e instanceof EnvelopeError && e.code === 'key');
});
