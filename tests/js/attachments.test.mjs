// The blob format of attachments (js/chat/attachments.js): a file encrypted in chunks comes back
// byte for byte however the download is cut into pieces, and a blob altered in any way (a bit,
// chunks swapped, cut at a chunk boundary, made longer) or another file's is refused as `altered`.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import {
  AttachmentError, CHUNK, TAG, cleanName, decryptBlob, encryptFile, encryptedSize, formatSize, parseFile,
} from '../../src/rathaus/web/static/js/chat/attachments.js';

/** @param {Uint8Array} bytes @param {number} piece @returns {AsyncIterable<Uint8Array>} */
async function* pieces(bytes, piece) {
  for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
}

/** @param {Uint8Array} plain */
async function sealed(plain, type = 'text/plain') {
  const out = await encryptFile(new Blob([plain]));
  const blob = new Uint8Array(await out.blob.arrayBuffer());
  const info = {
    blob: 'A'.repeat(22), key: out.key, iv: out.iv, name: 'a.txt', type, size: plain.length, sha256: out.sha256,
  };
  return {blob, info};
}

/** @param {Promise<unknown>} promise */
async function altered(promise) {
  await assert.rejects(promise, (e) => e instanceof AttachmentError && e.code === 'altered');
}

test('files of every size around the chunk come back as they were', async () => {
  for (const size of [0, 1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 17]) {
    const plain = new Uint8Array(crypto.randomBytes(size));
    const {blob, info} = await sealed(plain);
    assert.equal(blob.length, encryptedSize(size), `blob size of ${size}`);
    for (const piece of [7, 65536, blob.length || 1]) {
      const back = await decryptBlob(pieces(blob, piece), info);
      assert.deepEqual(new Uint8Array(await back.arrayBuffer()), plain, `${size} in pieces of ${piece}`);
      assert.equal(back.type, 'text/plain');
    }
  }
  assert.equal(encryptedSize(0), TAG);
  assert.equal(encryptedSize(3 * CHUNK), 3 * CHUNK + 3 * TAG);
});

test('a known text is nowhere in its blob', async () => {
  const text = new TextEncoder().encode('Geheimer Vermerk 4711 '.repeat(1000));
  const {blob} = await sealed(text);
  assert.equal(Buffer.from(blob).indexOf('Geheimer Vermerk'), -1);
});

test('an altered blob is refused', async () => {
  const plain = new Uint8Array(crypto.randomBytes(2 * CHUNK + 100));
  const {blob, info} = await sealed(plain);
  const flipped = blob.slice();
  flipped[CHUNK + 40] ^= 1;
  await altered(decryptBlob(pieces(flipped, 4096), info));
  const swapped = new Uint8Array(blob.length);
  swapped.set(blob.subarray(CHUNK + TAG, 2 * (CHUNK + TAG)), 0);
  swapped.set(blob.subarray(0, CHUNK + TAG), CHUNK + TAG);
  swapped.set(blob.subarray(2 * (CHUNK + TAG)), 2 * (CHUNK + TAG));
  await altered(decryptBlob(pieces(swapped, 4096), info));
  // Cut after a whole chunk: the first two chunks alone would be a file of 2 MiB.
  await altered(decryptBlob(pieces(blob.subarray(0, 2 * (CHUNK + TAG)), 4096), {...info, size: 2 * CHUNK}));
  await altered(decryptBlob(pieces(blob.subarray(0, 10), 4096), info));
  const longer = new Uint8Array(blob.length + 1);
  longer.set(blob);
  await altered(decryptBlob(pieces(longer, 4096), info));
});

test('a blob that is not the file the message names is refused', async () => {
  const {blob, info} = await sealed(new TextEncoder().encode('one'));
  const other = await sealed(new TextEncoder().encode('two'));
  await altered(decryptBlob(pieces(blob, 100), {...info, sha256: other.info.sha256}));
  await altered(decryptBlob(pieces(blob, 100), {...info, key: other.info.key}));
  await altered(decryptBlob(pieces(blob, 100), {...info, size: 4}));
});

test('what a message says about a file is checked', () => {
  const good = {
    blob: 'b'.repeat(22), key: 'A'.repeat(43), iv: 'A'.repeat(16), name: 'Foto.png', type: 'image/png',
    size: 10, sha256: 'A'.repeat(43), thumbnail: 'data:image/jpeg;base64,/9j/4AAQ',
  };
  assert.deepEqual(parseFile(good), good);
  for (const bad of [
    {blob: 'short'}, {key: 'A'.repeat(42)}, {iv: 'A'.repeat(15)}, {sha256: 'x'}, {name: ''}, {name: 'n'.repeat(256)},
    {size: -1}, {size: 1.5}, {size: '10'},
  ]) {
    assert.equal(parseFile({...good, ...bad}), null, JSON.stringify(bad));
  }
  // A thumbnail that is no JPEG data: URL of ours is dropped, the file kept.
  for (const thumbnail of ['javascript:alert(1)', 'data:image/svg+xml;base64,PHN2Zz4=', 'https://example.org/x.jpg']) {
    assert.equal(parseFile({...good, thumbnail})?.thumbnail, undefined);
  }
  assert.equal(parseFile(null), null);
});

test('names lose paths and control characters; sizes read as people write them', () => {
  assert.equal(cleanName('C:\\Users\\olga\\Plan.pdf'), 'Plan.pdf');
  assert.equal(cleanName('../../etc/passwd'), 'passwd');
  assert.equal(cleanName('a\u0000b\nc.txt'), 'abc.txt');
  assert.equal(cleanName('   '), 'file');
  assert.equal(formatSize(512, 'en'), '512 B');
  assert.equal(formatSize(1500, 'en'), '1.5 kB');
  assert.equal(formatSize(1_400_000, 'de'), '1,4 MB');
  assert.equal(formatSize(250_000_000, 'en'), '250 MB');
});
