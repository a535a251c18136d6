// Chat's MLS (js/chat/mls.js): joining a room's group by an external commit (RFC 9420 §12.4.3.2),
// so that a new device or a new member never waits for a member to be online. Whoever makes a
// commit publishes the GroupInfo of the epoch it leads to (external_pub and ratchet_tree
// extensions, signed by its leaf); the delivery service keeps the latest one of each group and
// hands it to a joining device, whose external commit it then orders like any other commit.
//
// Who may join is the delivery service's decision (it hands out the GroupInfo and accepts the
// commit). Members check what MLS can: the joiner's credential (the key directory, through the
// device's authService) and that an external commit removes no one but the joiner's own old leaf.

import * as ts from '../../vendor/ts-mls/dist/src/index.js';
import {bytesEqual} from '../e2ee/encoding.js';
import {CIPHERSUITE, MlsChatError, decodeMessage, identityOf, keyPackage, reason, zero} from './mls-codec.js';

/** @typedef {import('./mls-codec.js').MlsDevice} MlsDevice */
/** @typedef {import('./mls-codec.js').OwnKeyPackage} OwnKeyPackage */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').ClientState} ClientState */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').CiphersuiteImpl} CiphersuiteImpl */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').GroupInfo} GroupInfo */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').PublicMessage} PublicMessage */
/** @typedef {import('../../vendor/ts-mls/dist/src/index.js').FramedContentCommitData} CommitContent */

/**
 * The GroupInfo of `state`'s epoch, as an MLSMessage signed by this device's leaf.
 * @param {ClientState} state
 * @param {CiphersuiteImpl} cs
 */
export async function encodeGroupInfo(state, cs) {
  const groupInfo = await ts.createGroupInfoWithExternalPubAndRatchetTree(state, [], cs);
  return ts.encodeMlsMessage({version: 'mls10', wireformat: 'mls_group_info', groupInfo});
}

/**
 * A GroupInfo an external commit can be made from (not yet verified: ts-mls does that).
 * @param {Uint8Array} bytes
 * @param {Uint8Array} [groupId] the group it must be of
 * @returns {GroupInfo}
 */
function decodeGroupInfo(bytes, groupId) {
  const message = decodeMessage(bytes);
  if (message.wireformat !== 'mls_group_info') throw new MlsChatError('malformed', 'not a GroupInfo');
  const info = message.groupInfo;
  const context = info.groupContext;
  if (context.version !== 'mls10' || context.cipherSuite !== CIPHERSUITE) {
    throw new MlsChatError('malformed', `a GroupInfo of ${context.version} / ${context.cipherSuite}`);
  }
  if (groupId && !bytesEqual(groupId, context.groupId)) throw new MlsChatError('malformed', 'a GroupInfo of another group');
  for (const type of ['external_pub', 'ratchet_tree']) {
    if (!info.extensions.some((e) => e.extensionType === type)) throw new MlsChatError('malformed', `a GroupInfo without ${type}`);
  }
  return info;
}

/**
 * @param {GroupInfo} info
 * @param {OwnKeyPackage} own
 * @param {boolean} resync
 * @param {MlsDevice} device
 */
function commitFrom(info, own, resync, device) {
  return ts.joinGroupExternal(info, own.publicPackage, own.privatePackage, resync, device.cs, undefined, device.config);
}

/**
 * `device` joining the group of the GroupInfo `bytes` by an external commit (a PublicMessage).
 * ts-mls verifies the GroupInfo's signature, the signer's credential and the ratchet tree (every
 * leaf's credential through `device.config.authService`). With `resync`, the commit also removes
 * this device's old leaf, if the group has one; without, a group that has one is refused.
 * @param {MlsDevice} device
 * @param {Uint8Array} bytes
 * @param {{resync: boolean, groupId?: Uint8Array}} options
 * @returns {Promise<{state: ClientState, commit: Uint8Array, replaced: boolean}>}
 */
export async function externalJoin(device, bytes, {resync, groupId}) {
  const info = decodeGroupInfo(bytes, groupId);
  const own = await keyPackage(device);
  try {
    let result = await commitFrom(info, own, false, device);
    const newLeaf = result.newState.privatePath.leafIndex;
    const replaced = result.newState.ratchetTree.some((node, index) => index !== 2 * newLeaf
      && node?.nodeType === 'leaf' && bytesEqual(node.leaf.signaturePublicKey, device.signatureKey));
    if (replaced && !resync) throw new MlsChatError('rejected', 'this device is a member already (resync replaces its leaf)');
    // ts-mls looks for the old leaf by its signature key and never stops when there is none: the
    // first commit showed there is one.
    if (replaced) result = await commitFrom(info, own, true, device);
    const commit = ts.encodeMlsMessage({version: 'mls10', wireformat: 'mls_public_message', publicMessage: result.publicMessage});
    return {state: result.newState, commit, replaced};
  } catch (error) {
    if (error instanceof MlsChatError) throw error;
    const code = error instanceof Error && error.name === 'CodecError' ? 'malformed' : 'rejected';
    throw new MlsChatError(code, `GroupInfo refused: ${reason(error)}`, error);
  } finally {
    // The leaf's HPKE key comes from the commit's path: the key package's private keys are unused.
    zero([own.privatePackage.initPrivateKey, own.privatePackage.hpkePrivateKey]);
  }
}

/**
 * What RFC 9420 §12.4.3.2 asks of an external commit that ts-mls 1.6 does not check: proposals
 * by value only, one external_init, and a remove only of a leaf of the joiner's identity (resync).
 * @param {ClientState} state
 * @param {CommitContent} content
 * @returns {boolean} whether it removes this device's own leaf
 */
export function checkExternalCommit(state, content) {
  const {path, proposals} = content.commit;
  const joiner = path ? identityOf(path.leafNode) : null;
  const byValue = proposals.flatMap((p) => (p.proposalOrRefType === 'proposal' ? [p.proposal] : []));
  if (joiner === null || byValue.length !== proposals.length
    || byValue.filter((p) => p.proposalType === 'external_init').length !== 1) {
    throw new MlsChatError('rejected', 'not a valid external commit');
  }
  let own = false;
  for (const proposal of byValue) {
    if (proposal.proposalType !== 'remove') continue;
    const node = state.ratchetTree[2 * proposal.remove.removed];
    if (node?.nodeType !== 'leaf' || identityOf(node.leaf) !== joiner) {
      throw new MlsChatError('rejected', 'an external commit may remove only the joiner\'s own old leaf');
    }
    own ||= proposal.remove.removed === state.privatePath.leafIndex;
  }
  return own;
}

/**
 * An external commit that removes this device's own leaf must be this device's resync from
 * another copy of its state: signed with this device's key (ts-mls verifies the signature and
 * the proposals, and applies nothing: this copy cannot follow into the new epoch).
 * @param {ClientState} state
 * @param {MlsDevice} device
 * @param {PublicMessage} message
 */
export async function verifyOwnResync(state, device, message) {
  const content = message.content;
  const path = content.contentType === 'commit' ? content.commit.path : undefined;
  if (!path || !bytesEqual(path.leafNode.signaturePublicKey, device.signatureKey)) {
    throw new MlsChatError('rejected', 'an external commit removing this device by another\'s key');
  }
  try {
    await ts.processPublicMessage(state, message, ts.makePskIndex(state, {}), device.cs, () => 'reject');
  } catch (error) {
    throw new MlsChatError('rejected', `commit refused: ${reason(error)}`, error);
  }
}
