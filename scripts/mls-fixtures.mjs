// Writes tests/data/mls/*.bin: real MLS messages made by ts-mls (through js/chat/mls.js), for the
// server's MLS header parser (tests/unit/chat/test_mls_wire.py). Run `node scripts/mls-fixtures.mjs`
// after changing the MLS library; the files are committed.
import {writeFileSync} from 'node:fs';
import * as mls from '../src/rathaus/web/static/js/chat/mls.js';
import * as ts from '../src/rathaus/web/static/vendor/ts-mls/dist/src/index.js';

const OUT = new URL('../tests/data/mls/', import.meta.url);
const GROUP_ID = new Uint8Array(16).fill(7);

/** @type {Map<string, Uint8Array>} */
const keys = new Map();
/** @type {import('../src/rathaus/web/static/js/chat/mls.js').Authenticate} */
const authenticate = async (id, key) => Buffer.from(keys.get(id) ?? []).equals(Buffer.from(key));
const device = async () => {
  const {mls: d} = await mls.newDevice({authenticate});
  keys.set(d.id, d.signatureKey);
  return d;
};

const anna = await device();
const ben = await device();
const group = await mls.createGroup(anna, GROUP_ID);
const kp = await mls.keyPackage(ben);
const {commit, welcome} = await mls.add(group, [kp.bytes]);
await mls.processCommit(group, commit);
const message = await mls.encrypt(group, new TextEncoder().encode('Grüß Gott'));

// A GroupInfo of epoch 1, with the extensions an external join needs.
const cs = await ts.getCiphersuiteImpl(ts.getCiphersuiteFromName(mls.CIPHERSUITE));
const own = await ts.generateKeyPackage({credentialType: 'basic', identity: new TextEncoder().encode('dev-a')},
  ts.defaultCapabilities(), ts.defaultLifetime, [], cs);
const state = await ts.createGroup(GROUP_ID, own.publicPackage, own.privatePackage, [], cs);
const next = await ts.createCommit({state, cipherSuite: cs}, {wireAsPublicMessage: true});
const groupInfo = await ts.createGroupInfoWithExternalPubAndRatchetTree(next.newState, [], cs);

const files = {
  'commit-epoch0.bin': commit,
  'welcome.bin': welcome,
  'message-epoch1.bin': message,
  'key-package.bin': kp.bytes,
  'group-info-epoch1.bin': ts.encodeMlsMessage({version: 'mls10', wireformat: 'mls_group_info', groupInfo}),
};
for (const [name, bytes] of Object.entries(files)) writeFileSync(new URL(name, OUT), bytes);
