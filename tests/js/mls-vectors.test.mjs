// The vendored ts-mls (the files the browser loads, not node_modules) against the RFC 9420
// interoperability test vectors of cipher suite 1 (mls-vectors.json; its "source" says where
// from): a passive client joins by a Welcome and follows every commit and proposal of other
// implementations to the same epoch authenticators; the exporter SFrame keys will come from; and
// the RefHash of js/chat/mls.js.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';

import * as ts from '../../src/rathaus/web/static/vendor/ts-mls/dist/src/index.js';
import {decodeRatchetTree} from '../../src/rathaus/web/static/vendor/ts-mls/dist/src/ratchetTree.js';
import {CIPHERSUITE, refHash} from '../../src/rathaus/web/static/js/chat/mls.js';

const vectors = JSON.parse(readFileSync(new URL('./mls-vectors.json', import.meta.url), 'utf8'));
const cs = await ts.getCiphersuiteImpl(ts.getCiphersuiteFromName(CIPHERSUITE));

/** @param {string} hex */
const unhex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
/** @param {Uint8Array} bytes */
const hex = (bytes) => Buffer.from(bytes).toString('hex');

/** @param {string} hexBytes */
function decode(hexBytes) {
  const bytes = unhex(hexBytes);
  const decoded = ts.decodeMlsMessage(bytes, 0);
  assert.ok(decoded, 'decodes');
  assert.equal(decoded[1], bytes.length, 'no trailing bytes');
  return decoded[0];
}

/**
 * One passive-client case: join by the Welcome, then process each epoch's proposals and commit.
 * @param {any} v
 */
async function passiveClient(v) {
  const kp = decode(v.key_package);
  assert.equal(kp.wireformat, 'mls_key_package');
  const welcome = decode(v.welcome);
  assert.equal(welcome.wireformat, 'mls_welcome');
  if (kp.wireformat !== 'mls_key_package' || welcome.wireformat !== 'mls_welcome') return;
  const psks = Object.fromEntries(v.external_psks.map(
    (/** @type {{psk_id: string, psk: string}} */ p) => [ts.bytesToBase64(unhex(p.psk_id)), unhex(p.psk)]));
  const tree = v.ratchet_tree === null ? undefined : decodeRatchetTree(unhex(v.ratchet_tree), 0)?.[0];
  let state = await ts.joinGroup(welcome.welcome, kp.keyPackage, {
    hpkePrivateKey: unhex(v.encryption_priv),
    initPrivateKey: unhex(v.init_priv),
    signaturePrivateKey: unhex(v.signature_priv),
  }, ts.makePskIndex(undefined, psks), cs, tree);
  assert.equal(hex(state.keySchedule.epochAuthenticator), v.initial_epoch_authenticator, 'after the welcome');
  for (const [i, epoch] of v.epochs.entries()) {
    for (const message of [...epoch.proposals, epoch.commit]) {
      const m = decode(message);
      if (m.wireformat === 'mls_private_message') {
        state = (await ts.processPrivateMessage(state, m.privateMessage, ts.makePskIndex(state, psks), cs)).newState;
      } else if (m.wireformat === 'mls_public_message') {
        state = (await ts.processPublicMessage(state, m.publicMessage, ts.makePskIndex(state, psks), cs)).newState;
      } else {
        assert.fail(`unexpected ${m.wireformat}`);
      }
    }
    assert.equal(hex(state.keySchedule.epochAuthenticator), epoch.epoch_authenticator, `epoch ${i + 1}`);
  }
}

test('passive client: joining by a Welcome of another implementation (RFC 9420 vectors, suite 1)', async () => {
  assert.equal(vectors.passive_client_welcome.length, 8);
  for (const v of vectors.passive_client_welcome) await passiveClient(v);
});

test('passive client: following commits of another implementation (RFC 9420 vectors, suite 1)', async () => {
  assert.equal(vectors.passive_client_handling_commit.length, 13);
  for (const v of vectors.passive_client_handling_commit) await passiveClient(v);
});

test('the MLS exporter gives the vectors\' secrets (the source of SFrame keys)', async () => {
  assert.equal(vectors.key_schedule.epochs.length, 5);
  for (const epoch of vectors.key_schedule.epochs) {
    const {label, context, length, secret} = epoch.exporter;
    const out = await ts.mlsExporter(unhex(epoch.exporter_secret), label, unhex(context), length, cs);
    assert.equal(hex(out), secret);
  }
});

test('RefHash (key package references) gives the vector\'s output', async () => {
  const {label, value, out} = vectors.ref_hash;
  assert.equal(hex(await refHash(label, unhex(value))), out);
});
