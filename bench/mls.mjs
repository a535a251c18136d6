// Chat's MLS groups (src/rathaus/web/static/js/chat/mls.js, on the vendored ts-mls) in Node.js:
// what one device spends, and the sizes of what the delivery service carries. Prints JSON.
//
//   node bench/mls.mjs [--members 50]
//
// Measured, for a room of N devices (ciphersuite 1, Node's WebCrypto, one process, so every
// device's work is timed on its own and the times add up as they would on separate machines):
// - creating a device's MLS side and a group, and N-1 key packages;
// - Anna adding all N-1 devices in one commit (commit + welcome), and one device joining by it;
// - Anna adding them one by one (N-1 commits; each existing member processes each commit: the
//   time of one member processing them all is reported);
// - an application message (encrypt, decrypt, bytes for 5 and 1000 bytes of text), the exporter,
//   a saved group state; a removal and an empty commit (update) in the full room.
import * as mls from '../src/rathaus/web/static/js/chat/mls.js';

const args = process.argv.slice(2);
const members = Number(args[args.indexOf('--members') + 1] || 50);
if (args.includes('--members') && !(members >= 2)) throw new Error('--members N, N >= 2');

/** @type {mls.Authenticate} */
const authenticate = async () => true;
const text = new TextEncoder();

/** @template T @param {() => Promise<T>} f @returns {Promise<[T, number]>} */
async function timed(f) {
  const start = performance.now();
  const result = await f();
  return [result, Math.round((performance.now() - start) * 10) / 10];
}

const device = async () => (await mls.newDevice({authenticate})).mls;

const [anna, newDeviceMs] = await timed(device);
const [group, createGroupMs] = await timed(() => mls.createGroup(anna, 'room-bench'));
const others = [];
for (let i = 1; i < members; i++) others.push(await device());
const [keyPackages, keyPackagesMs] = await timed(() => Promise.all(others.map((d) => mls.keyPackage(d))));

// All at once.
const [added, addAllMs] = await timed(() => mls.add(group, keyPackages.map((k) => k.bytes)));
await mls.processCommit(group, added.commit);
const last = others.length - 1;
const [joined, joinMs] = await timed(() => mls.join(others[last], added.welcome, [keyPackages[last]]));
const others1 = [];
for (let i = 0; i < last; i++) others1.push(await mls.join(others[i], added.welcome, [keyPackages[i]]));
const everyone = [group, ...others1, joined];

// One by one, in a second room: Anna's commits, and what the first joiner processes.
const group2 = await mls.createGroup(anna, 'room-bench-2');
const kps2 = await Promise.all(others.map((d) => mls.keyPackage(d)));
let commitsMs = 0;
const commits = [];
const first = {group: /** @type {mls.Group | null} */ (null)};
for (const [i, kp] of kps2.entries()) {
  const [r, ms] = await timed(() => mls.add(group2, [kp.bytes]));
  commitsMs += ms;
  await mls.processCommit(group2, r.commit);
  if (i === 0) first.group = await mls.join(others[0], r.welcome, [kp]);
  else commits.push(r.commit);
}
const [, processAllMs] = await timed(async () => {
  for (const c of commits) await mls.processCommit(/** @type {mls.Group} */ (first.group), c);
});

const short = text.encode('Hallo');
const long = text.encode('x'.repeat(1000));
const [message, encryptMs] = await timed(() => mls.encrypt(group, short));
const [, decryptMs] = await timed(() => mls.decrypt(joined, message));
const longMessage = await mls.encrypt(group, long);
const [, exporterMs] = await timed(() => mls.exporter(group, 'SFrame 1.0 Base Key', 32));
const saved = await mls.saveGroup(group);

const [removal, removeMs] = await timed(() => mls.remove(group, others[0].id));
await mls.processCommit(group, removal.commit);
const [, processRemovalMs] = await timed(() => mls.processCommit(joined, removal.commit));
for (const g of everyone.slice(2, -1)) await mls.processCommit(g, removal.commit);
const [updated, updateMs] = await timed(() => mls.update(joined));
const [, processUpdateMs] = await timed(() => mls.processCommit(group, updated.commit));

process.stdout.write(`${JSON.stringify({
  members,
  ms: {
    newDevice: newDeviceMs, createGroup: createGroupMs,
    keyPackagesAll: keyPackagesMs, keyPackageEach: Math.round(keyPackagesMs / others.length * 10) / 10,
    addAllInOneCommit: addAllMs, joinByWelcome: joinMs,
    addOneByOneTotal: Math.round(commitsMs), processAllThoseCommits: processAllMs,
    encrypt: encryptMs, decrypt: decryptMs, exporter: exporterMs,
    remove: removeMs, processRemoval: processRemovalMs, update: updateMs, processUpdate: processUpdateMs,
  },
  bytes: {
    keyPackage: keyPackages[0].bytes.length,
    commitAddAll: added.commit.length, welcomeAddAll: added.welcome.length,
    commitAddOne: commits.at(-1)?.length ?? null,
    message5: message.length, message1000: longMessage.length,
    commitRemove: removal.commit.length, commitUpdate: updated.commit.length,
    savedGroup: saved.state.length,
  },
}, null, 1)}\n`);
