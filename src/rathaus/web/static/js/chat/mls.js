// End-to-end encrypted chat: the MLS (RFC 9420) operations Rathaus needs, on ts-mls (vendored
// under /static/vendor; why and how: docs/e2ee.md). No DOM, no I/O: the delivery service
// (Rathaus) carries the bytes this module returns, orders commits per group and epoch, and never
// sees plaintext, a private key or an epoch secret.
//
// - One MLS group per room, one leaf per device, ciphersuite 1
//   (MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519).
// - The leaf's signature key IS the device's Ed25519 key of e2ee/device.js: the private key stays
//   a non-extractable CryptoKey. ts-mls keeps signature keys as bytes, so the device's
//   ciphersuite signs through WebCrypto whenever ts-mls hands it the device's *handle* (a
//   placeholder, not a key; saved group states hold only the handle). The credential is a basic
//   one whose identity is the device id; `authenticate(identity, signatureKey)` (the key
//   directory) decides whether that pair is genuine, for every leaf this device accepts.
//   Reusing the key is safe: MLS signs "MLS 1.0 <label>" with a length prefix, the envelopes of
//   e2ee/envelope.js sign "Rathaus E2EE v1 …"; no message of one can be one of the other.
// - Commits go as PublicMessage (signed, not encrypted) so that the delivery service can read
//   their epoch and proposals; application messages as PrivateMessage.
// - A commit this device makes stays *pending*: the group moves to the next epoch only when the
//   delivery service hands the same commit back (`processCommit`). If another member's commit for
//   the same epoch comes first, that one is applied, the pending one is dropped, and the result
//   says `superseded` (make the change again, in the new epoch).
// - Devices join by a welcome or by an external commit (RFC 9420 §12.4.3.2, mls-external.js):
//   every commit also returns the GroupInfo of the epoch it leads to, which the delivery service
//   keeps for the next joiner, so that no one waits for a member to be online.
// - ts-mls is immutable: every operation computes a new state and the group adopts it only when
//   the operation succeeded, so a refused message leaves the group as it was. Operations on one
//   group run one at a time. Key material ts-mls reports as consumed is zeroed once the group
//   has moved past it (forward secrecy).
// - The layer below (error type, ciphersuite, key packages, MLSMessage decoding) is mls-codec.js;
//   what this module exports from there is re-exported here.

import * as ts from '../../vendor/ts-mls/dist/src/index.js';
import {decryptSenderData} from '../../vendor/ts-mls/dist/src/privateMessage.js';
import {createDevice, loadOrCreateDevice, MemoryDeviceStore} from '../e2ee/device.js';
import {b64urlDecode, bytesEqual} from '../e2ee/encoding.js';
import {MlsChatError, decodeMessage, keyPackage, membersOf, reason, suite, zero} from './mls-codec.js';
import {checkExternalCommit, encodeGroupInfo, externalJoin, verifyOwnResync} from './mls-external.js';

export {CIPHERSUITE, KEY_PACKAGE_LIFETIME, MlsChatError, keyPackage, refHash} from './mls-codec.js';

/** @typedef {import('../e2ee/device.js').Device} Device */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').ClientState} ClientState */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').CiphersuiteImpl} CiphersuiteImpl */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').ClientConfig} ClientConfig */
/** @typedef {import('./mls-codec.js').MlsErrorCode} MlsErrorCode */
/** @typedef {import('./mls-codec.js').MlsDevice} MlsDevice */
/** @typedef {import('./mls-codec.js').OwnKeyPackage} OwnKeyPackage */
/** @typedef {import('./mls-codec.js').Member} Member */

const HANDLE_PREFIX = 'rathaus-webcrypto-ed25519:';

/**
 * Whether `identity` (a device id) owns `signatureKey` (raw Ed25519): the key directory's answer.
 * @typedef {(identity: string, signatureKey: Uint8Array) => Promise<boolean>} Authenticate
 */

/**
 * What a commit changed, for this device.
 * @typedef {{epoch: bigint, own: boolean, superseded: boolean, joined: string[], left: string[], active: boolean}} CommitResult
 */

/** @typedef {{plaintext: Uint8Array, sender: Member, epoch: bigint}} Decrypted */

/**
 * The external commit by which this device joined (`joinExternal`), until the delivery service
 * hands it back; `replaced`: it replaced this device's old leaf (resync).
 * @typedef {{commit: Uint8Array, replaced: boolean}} ExternalJoin
 */

/**
 * A saved group (a plain object of bytes, for IndexedDB).
 * @typedef {{version: 1, state: Uint8Array, pending: {commit: Uint8Array, state: Uint8Array} | null,
 *   external?: ExternalJoin | null}} SavedGroup
 */

/** @typedef {{commit: Uint8Array, state: ClientState, consumed: Uint8Array[]}} Pending */

/**
 * @typedef {{device: MlsDevice, state: ClientState, pending: Pending | null, external: ExternalJoin | null,
 *   queue: Promise<unknown>}} Internal
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The MLS side of a device of e2ee/device.js: its Ed25519 key pair becomes the leaf signature key.
 * @param {Device} device
 * @param {{authenticate: Authenticate}} options
 * @returns {Promise<MlsDevice>}
 */
export async function mlsDevice(device, {authenticate}) {
  const base = await suite();
  const signatureKey = b64urlDecode(device.publicInfo.ed25519);
  if (!signatureKey || signatureKey.length !== 32) throw new TypeError('the device has no Ed25519 public key');
  const handle = encoder.encode(HANDLE_PREFIX + device.id);
  const privateKey = device.ed25519.privateKey;
  /** @type {CiphersuiteImpl} */
  const cs = {
    ...base,
    signature: {
      ...base.signature,
      async sign(signKey, message) {
        if (!bytesEqual(signKey, handle)) throw new MlsChatError('wrong-device', 'not this device\'s signature key');
        return new Uint8Array(await crypto.subtle.sign('Ed25519', privateKey, /** @type {Uint8Array<ArrayBuffer>} */ (message)));
      },
      async keygen() {
        throw new MlsChatError('wrong-device', 'a device signs with its own key only');
      },
    },
  };
  /** @type {ClientConfig} */
  const config = {
    keyRetentionConfig: ts.defaultKeyRetentionConfig,
    lifetimeConfig: ts.defaultLifetimeConfig,
    keyPackageEqualityConfig: ts.defaultKeyPackageEqualityConfig,
    paddingConfig: ts.defaultPaddingConfig,
    authService: {
      async validateCredential(credential, key) {
        if (credential.credentialType !== 'basic') return false;
        return authenticate(decoder.decode(credential.identity), key);
      },
    },
  };
  return {id: device.id, identity: encoder.encode(device.id), signatureKey, handle, cs, config};
}

/**
 * A new device (in memory) with its MLS side: for tests, and for a page without IndexedDB.
 * @param {{authenticate: Authenticate}} options
 * @returns {Promise<{device: Device, mls: MlsDevice}>}
 */
export async function newDevice(options) {
  const store = new MemoryDeviceStore();
  await store.putIfAbsent(await createDevice());
  const device = await loadOrCreateDevice(store);
  return {device, mls: await mlsDevice(device, options)};
}

/** @type {WeakMap<Group, Internal>} */
const internals = new WeakMap();

/** One device's view of one MLS group (a room's chat). Read-only here; the functions below change it. */
export class Group {
  /**
   * @param {MlsDevice} device
   * @param {ClientState} state
   * @param {Pending | null} [pending]
   * @param {ExternalJoin | null} [external]
   */
  constructor(device, state, pending = null, external = null) {
    internals.set(this, {device, state, pending, external, queue: Promise.resolve()});
  }

  get #internal() {
    return /** @type {Internal} */ (internals.get(this));
  }

  /** @returns {Uint8Array} */
  get groupId() {
    return this.#internal.state.groupContext.groupId;
  }

  /** @returns {bigint} */
  get epoch() {
    return this.#internal.state.groupContext.epoch;
  }

  /** @returns {number} */
  get ownLeafIndex() {
    return this.#internal.state.privatePath.leafIndex;
  }

  /** Whether this device is still a member (false once a commit removed it). */
  get active() {
    return this.#internal.state.groupActiveState.kind === 'active';
  }

  /** The commit that waits for the delivery service, or null. */
  get pendingCommit() {
    return this.#internal.pending?.commit ?? null;
  }

  /** @returns {Member[]} */
  members() {
    return membersOf(this.#internal.state.ratchetTree);
  }
}

/**
 * Runs `operation` on the group's state after the group's earlier operations.
 * @template T
 * @param {Group} group
 * @param {(internal: Internal) => Promise<T>} operation
 * @returns {Promise<T>}
 */
function serial(group, operation) {
  const internal = internals.get(group);
  if (!internal) throw new TypeError('not a group of this module');
  const result = internal.queue.then(() => operation(internal));
  internal.queue = result.catch(() => undefined);
  return result;
}

/** @param {ClientState} state @param {string} identity */
function isMember(state, identity) {
  return membersOf(state.ratchetTree).some((m) => m.identity === identity);
}

/**
 * A new group of one: `device`. `groupId` is the room's (bytes, or text as UTF-8).
 * @param {MlsDevice} device
 * @param {Uint8Array | string} groupId
 */
export async function createGroup(device, groupId) {
  const own = await keyPackage(device);
  const id = typeof groupId === 'string' ? encoder.encode(groupId) : groupId;
  const state = await ts.createGroup(id, own.publicPackage, own.privatePackage, [], device.cs, device.config);
  return new Group(device, state);
}

/**
 * The GroupInfo of the group's current epoch (an MLSMessage with the external_pub and ratchet_tree
 * extensions, signed by this device), for the delivery service to hand to devices that join by
 * `joinExternal`. The creator publishes it after `createGroup`; each commit returns its own.
 * @param {Group} group
 * @returns {Promise<Uint8Array>}
 */
export function groupInfo(group) {
  return serial(group, async (internal) => {
    if (internal.state.groupActiveState.kind !== 'active') throw new MlsChatError('inactive', 'this device left the group');
    return encodeGroupInfo(internal.state, internal.device.cs);
  });
}

/**
 * A commit of `device` in `state`'s epoch, pending until the delivery service hands it back, and
 * the GroupInfo of the epoch it leads to (published when the delivery service accepts the commit).
 * @param {Internal} internal
 * @param {import('../../vendor/ts-mls/dist/src/index.js').Proposal[]} proposals
 */
async function commit(internal, proposals) {
  if (internal.pending) throw new MlsChatError('pending-commit', 'the last commit still waits for the delivery service');
  if (internal.state.groupActiveState.kind !== 'active') throw new MlsChatError('inactive', 'this device left the group');
  let result;
  try {
    result = await ts.createCommit({state: internal.state, cipherSuite: internal.device.cs},
      {extraProposals: proposals, wireAsPublicMessage: true, ratchetTreeExtension: true});
  } catch (error) {
    if (error instanceof MlsChatError) throw error;
    throw new MlsChatError('rejected', `commit refused: ${reason(error)}`, error);
  }
  const bytes = ts.encodeMlsMessage(result.commit);
  const info = await encodeGroupInfo(result.newState, internal.device.cs);
  internal.pending = {commit: bytes, state: result.newState, consumed: result.consumed};
  const welcome = result.welcome
    ? ts.encodeMlsMessage({version: 'mls10', wireformat: 'mls_welcome', welcome: result.welcome})
    : null;
  return {commit: bytes, welcome, groupInfo: info};
}

/**
 * Adds devices by their key packages (MLSMessage bytes, from the delivery service). Returns the
 * commit (for the group), the welcome (for the new devices), both pending (see `processCommit`),
 * and the GroupInfo of the next epoch.
 * @param {Group} group
 * @param {Uint8Array[]} keyPackages
 * @returns {Promise<{commit: Uint8Array, welcome: Uint8Array, groupInfo: Uint8Array}>}
 */
export function add(group, keyPackages) {
  return serial(group, async (internal) => {
    const proposals = keyPackages.map((bytes) => {
      const message = decodeMessage(bytes);
      if (message.wireformat !== 'mls_key_package') throw new MlsChatError('malformed', 'not a key package');
      return /** @type {import('../../vendor/ts-mls/dist/src/index.js').Proposal} */ (
        {proposalType: 'add', add: {keyPackage: message.keyPackage}});
    });
    if (proposals.length === 0) throw new TypeError('add needs at least one key package');
    const {commit: bytes, welcome, groupInfo: info} = await commit(internal, proposals);
    return {commit: bytes, welcome: /** @type {Uint8Array} */ (welcome), groupInfo: info};
  });
}

/**
 * Removes members by leaf index or identity (device id), several in one commit (a user's devices).
 * Returns the pending commit and the GroupInfo of the next epoch.
 * @param {Group} group
 * @param {number | string | (number | string)[]} member
 * @returns {Promise<{commit: Uint8Array, groupInfo: Uint8Array}>}
 */
export function remove(group, member) {
  return serial(group, async (internal) => {
    const wanted = Array.isArray(member) ? member : [member];
    if (wanted.length === 0) throw new TypeError('remove needs at least one member');
    const members = membersOf(internal.state.ratchetTree);
    /** @type {Set<number>} */
    const leaves = new Set();
    for (const m of wanted) {
      const found = members.find((x) => (typeof m === 'number' ? x.leafIndex === m : x.identity === m));
      if (!found) throw new MlsChatError('not-member', `no member ${m}`);
      if (found.leafIndex === internal.state.privatePath.leafIndex) {
        throw new MlsChatError('not-member', 'a device cannot commit its own removal');
      }
      leaves.add(found.leafIndex);
    }
    const {commit: bytes, groupInfo: info} = await commit(internal,
      [...leaves].map((removed) => ({proposalType: 'remove', remove: {removed}})));
    return {commit: bytes, groupInfo: info};
  });
}

/**
 * An empty commit: new key material for this device's path, a new epoch (post-compromise security).
 * @param {Group} group
 * @returns {Promise<{commit: Uint8Array, groupInfo: Uint8Array}>}
 */
export function update(group) {
  return serial(group, async (internal) => {
    const {commit: bytes, groupInfo: info} = await commit(internal, []);
    return {commit: bytes, groupInfo: info};
  });
}

/**
 * Drops this device's pending commit, which the delivery service refused for good (not for its
 * epoch: then another commit comes and supersedes it). The group stays as it was.
 * @param {Group} group
 * @returns {Promise<void>}
 */
export function abandon(group) {
  return serial(group, async (internal) => {
    internal.pending = null;
  });
}

/**
 * Applies a commit in the order the delivery service decided. This device's own pending commit
 * is merged; another member's is verified and applied (and drops the pending one, if any); the
 * external commit this device joined by (`joinExternal`) changes nothing, the group is there
 * already. An external commit by which this device re-joined from another copy of its state
 * (resync) ends this copy (`active: false`). Refused commits leave the group unchanged.
 * @param {Group} group
 * @param {Uint8Array} bytes
 * @returns {Promise<CommitResult>}
 */
export function processCommit(group, bytes) {
  return serial(group, async (internal) => {
    const before = membersOf(internal.state.ratchetTree).map((m) => m.identity);
    /** @param {ClientState} state @param {boolean} own @param {boolean} superseded */
    const adopt = (state, own, superseded) => {
      internal.state = state;
      internal.external = null;
      const after = membersOf(state.ratchetTree).map((m) => m.identity);
      return {
        epoch: state.groupContext.epoch, own, superseded,
        joined: after.filter((id) => !before.includes(id)),
        left: before.filter((id) => !after.includes(id)),
        active: state.groupActiveState.kind === 'active',
      };
    };
    const pending = internal.pending;
    if (pending && bytesEqual(pending.commit, bytes)) {
      internal.pending = null;
      zero(pending.consumed);
      return adopt(pending.state, true, false);
    }
    const external = internal.external;
    if (external && bytesEqual(external.commit, bytes)) {
      internal.external = null;
      return {
        epoch: internal.state.groupContext.epoch, own: true, superseded: false,
        joined: external.replaced ? [] : [internal.device.id], left: [], active: group.active,
      };
    }
    const message = decodeMessage(bytes);
    if (message.wireformat !== 'mls_public_message' || message.publicMessage.content.contentType !== 'commit') {
      throw new MlsChatError('malformed', 'not a commit');
    }
    const content = message.publicMessage.content;
    checkGroupAndEpoch(internal.state, content.groupId, content.epoch, 'commit');
    const settle = () => {
      internal.pending = null;
      if (pending) zero(pending.consumed);
    };
    if (content.sender.senderType === 'new_member_commit' && checkExternalCommit(internal.state, content)) {
      await verifyOwnResync(internal.state, internal.device, message.publicMessage);
      settle();
      return adopt({...internal.state, groupActiveState: {kind: 'removedFromGroup'}}, false, pending !== null);
    }
    let result;
    try {
      result = await ts.processPublicMessage(internal.state, message.publicMessage,
        ts.makePskIndex(internal.state, {}), internal.device.cs);
    } catch (error) {
      throw new MlsChatError('rejected', `commit refused: ${reason(error)}`, error);
    }
    settle();
    zero(result.consumed);
    return adopt(result.newState, false, pending !== null);
  });
}

/**
 * @param {ClientState} state
 * @param {Uint8Array} groupId
 * @param {bigint} epoch
 * @param {'commit' | 'message'} kind
 */
function checkGroupAndEpoch(state, groupId, epoch, kind) {
  if (!bytesEqual(groupId, state.groupContext.groupId)) throw new MlsChatError('malformed', `a ${kind} for another group`);
  const current = state.groupContext.epoch;
  if (epoch > current) throw new MlsChatError('future-epoch', `a ${kind} of epoch ${epoch}; this device is at ${current}`);
  if (kind === 'commit' && epoch < current) {
    throw new MlsChatError('stale-epoch', `a commit for epoch ${epoch}, which is over (now ${current})`);
  }
  if (kind === 'message' && epoch < current && !state.historicalReceiverData.has(epoch)) {
    throw new MlsChatError('stale-epoch', `a message of epoch ${epoch}, whose keys this device does not hold`);
  }
}

/**
 * Joins by a welcome (bytes from the delivery service) made for one of `keyPackages` (this
 * device's own, kept since they were uploaded). The used key package must be deleted afterwards.
 * @param {MlsDevice} device
 * @param {Uint8Array} welcomeBytes
 * @param {OwnKeyPackage[]} keyPackages
 */
export async function join(device, welcomeBytes, keyPackages) {
  const message = decodeMessage(welcomeBytes);
  if (message.wireformat !== 'mls_welcome') throw new MlsChatError('malformed', 'not a welcome');
  const welcome = message.welcome;
  const own = keyPackages.find((kp) => welcome.secrets.some((s) => bytesEqual(s.newMember, kp.ref)));
  if (!own) throw new MlsChatError('no-key-package', 'the welcome is for none of these key packages');
  try {
    const state = await ts.joinGroup(welcome, own.publicPackage, own.privatePackage, ts.emptyPskIndex,
      device.cs, undefined, undefined, device.config);
    return new Group(device, state);
  } catch (error) {
    throw new MlsChatError('rejected', `welcome refused: ${reason(error)}`, error);
  }
}

/**
 * Joins the group a GroupInfo describes (from the delivery service; see `groupInfo`) by an
 * external commit, without a welcome. Refused: bytes that are not a GroupInfo of this ciphersuite
 * with external_pub and ratchet_tree, or of another group than `groupId` ('malformed'); a
 * GroupInfo, signer or tree that does not verify or that the key directory refuses, or a group
 * that has this device already, unless `resync` ('rejected'). `resync`: replace this device's
 * old leaf, if the group has one (a device whose saved state was lost or fell behind).
 * The group is at the commit's epoch already: use it only if the delivery service accepts the
 * commit (then publish `groupInfo`, the new epoch's); else join again from a fresh GroupInfo.
 * @param {MlsDevice} device
 * @param {Uint8Array} groupInfoBytes
 * @param {{resync?: boolean, groupId?: Uint8Array | string}} [options]
 * @returns {Promise<{group: Group, commit: Uint8Array, groupInfo: Uint8Array}>}
 */
export async function joinExternal(device, groupInfoBytes, {resync = false, groupId} = {}) {
  const id = typeof groupId === 'string' ? encoder.encode(groupId) : groupId;
  const {state, commit: bytes, replaced} = await externalJoin(device, groupInfoBytes, {resync, groupId: id});
  const group = new Group(device, state, null, {commit: bytes, replaced});
  return {group, commit: bytes, groupInfo: await encodeGroupInfo(state, device.cs)};
}

/**
 * Encrypts an application message to the group's current epoch.
 * @param {Group} group
 * @param {Uint8Array} plaintext
 * @returns {Promise<Uint8Array>}
 */
export function encrypt(group, plaintext) {
  return serial(group, async (internal) => {
    if (internal.state.groupActiveState.kind !== 'active') throw new MlsChatError('inactive', 'this device left the group');
    const result = await ts.createApplicationMessage(internal.state, plaintext, internal.device.cs);
    internal.state = result.newState;
    zero(result.consumed);
    return ts.encodeMlsMessage({version: 'mls10', wireformat: 'mls_private_message', privateMessage: result.privateMessage});
  });
}

/**
 * Decrypts an application message, and says which member sent it (verified by MLS: the sender's
 * leaf signed it). Its key is deleted: the same message again is refused. A message of a past
 * epoch (ts-mls keeps the keys of a few) is accepted only from a device that is still a member:
 * a removed device keeps the keys of the epoch it was removed in.
 * @param {Group} group
 * @param {Uint8Array} bytes
 * @returns {Promise<Decrypted>}
 */
export function decrypt(group, bytes) {
  return serial(group, async (internal) => {
    const message = decodeMessage(bytes);
    if (message.wireformat !== 'mls_private_message' || message.privateMessage.contentType !== 'application') {
      throw new MlsChatError('malformed', 'not an application message');
    }
    const pm = message.privateMessage;
    const state = internal.state;
    checkGroupAndEpoch(state, pm.groupId, pm.epoch, 'message');
    const epochData = pm.epoch === state.groupContext.epoch
      ? {senderDataSecret: state.keySchedule.senderDataSecret, ratchetTree: state.ratchetTree}
      : /** @type {import('../../vendor/ts-mls/dist/src/index.js').EpochReceiverData} */ (state.historicalReceiverData.get(pm.epoch));
    let result;
    let sender;
    try {
      const senderData = await decryptSenderData(pm, epochData.senderDataSecret, internal.device.cs);
      sender = senderData && membersOf(epochData.ratchetTree).find((m) => m.leafIndex === senderData.leafIndex);
      if (sender && pm.epoch !== state.groupContext.epoch && !isMember(state, sender.identity)) {
        // A device removed since still holds that epoch's keys: what it sends there now is refused.
        throw new MlsChatError('stale-epoch', 'a message of a past epoch from a device that has left since');
      }
      result = await ts.processPrivateMessage(state, pm, ts.makePskIndex(state, {}), internal.device.cs);
    } catch (error) {
      if (error instanceof MlsChatError) throw error;
      throw new MlsChatError('rejected', `message refused: ${reason(error)}`, error);
    }
    if (result.kind !== 'applicationMessage' || !sender) throw new MlsChatError('rejected', 'message refused');
    internal.state = result.newState;
    zero(result.consumed);
    return {plaintext: result.message, sender, epoch: pm.epoch};
  });
}

/**
 * The MLS exporter (RFC 9420 §8.5) of the current epoch: the same bytes for every member of the
 * epoch, others after a commit. SFrame (RFC 9605 §5.2) takes its base key with
 * `exporter(group, 'SFrame 1.0 Base Key', 32)`.
 * @param {Group} group
 * @param {string} label
 * @param {number} length
 * @param {Uint8Array} [context]
 */
export function exporter(group, label, length, context = new Uint8Array(0)) {
  return serial(group, async (internal) => ts.mlsExporter(
    internal.state.keySchedule.exporterSecret, label, context, length, internal.device.cs));
}

/**
 * The group as bytes for IndexedDB: its state (epoch secrets and HPKE private keys, so store it
 * only on the device; the signature key is not in it, only the device's handle) and a pending commit.
 * @param {Group} group
 * @returns {Promise<SavedGroup>}
 */
export function saveGroup(group) {
  return serial(group, async (internal) => ({
    version: /** @type {const} */ (1),
    state: ts.encodeGroupState(internal.state),
    pending: internal.pending && {commit: internal.pending.commit, state: ts.encodeGroupState(internal.pending.state)},
    external: internal.external,
  }));
}

/**
 * A group saved by `saveGroup`, for the device that saved it.
 * @param {MlsDevice} device
 * @param {SavedGroup} saved
 */
export function loadGroup(device, saved) {
  /** @param {Uint8Array} bytes @returns {ClientState} */
  const decode = (bytes) => {
    const decoded = ts.decodeGroupState(bytes, 0);
    if (!decoded || decoded[1] !== bytes.length) throw new MlsChatError('malformed', 'not a saved group');
    if (!bytesEqual(decoded[0].signaturePrivateKey, device.handle)) {
      throw new MlsChatError('wrong-device', 'a group saved by another device');
    }
    return {...decoded[0], clientConfig: device.config};
  };
  if (saved.version !== 1) throw new MlsChatError('malformed', 'not a saved group');
  const pending = saved.pending && {commit: saved.pending.commit, state: decode(saved.pending.state), consumed: []};
  const external = saved.external && {commit: saved.external.commit, replaced: saved.external.replaced === true};
  return new Group(device, decode(saved.state), pending, external ?? null);
}
