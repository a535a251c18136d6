// MediaSession.setVideoWanted (media.js): `receive_video` goes out on a change only, waits for
// the subscription's answer, is sent again after a new offer (an ICE restart, or Janus subscribed
// afresh), and the simulcast layer is chosen for wanted video only. A fake signaling and a fake
// RTCPeerConnection stand in for the edges.
import {test} from 'node:test';
import assert from 'node:assert/strict';

globalThis.MediaStream ??= class { addTrack() {} };
globalThis.RTCPeerConnection ??= class {
  constructor() { this.connectionState = 'new'; this.localDescription = null; }
  addEventListener() {}
  async setRemoteDescription() {}
  async createAnswer() { return {type: 'answer', sdp: 'v=0 answer'}; }
  async setLocalDescription(d) { this.localDescription = d; }
  getTransceivers() { return []; }
  close() {}
};

const {MediaSession} = await import('../../src/rathaus/web/static/js/media.js');

function meeting() {
  const sent = [];
  const handlers = new Map();
  const signaling = {
    status: 'joined', resumed: false,
    on(type, fn) { handlers.set(type, fn); },
    send(m) { sent.push(m); return true; },
  };
  const media = new MediaSession(/** @type {any} */ (signaling));
  media.addFeed({id: 'f1', participant: 'ben', kind: 'camera'});
  const about = () => sent.filter((m) => m.type === 'receive_video' || m.type === 'layer');
  const offer = async () => {
    media.onOffer('f1', 'v=0 offer');
    await media.subscribers.get('f1').peer.chain;
  };
  return {media, sent, about, offer};
}

test('nothing is sent before the answer; what is wanted goes out with it', async () => {
  const {media, about, offer} = meeting();
  media.setVideoWanted('f1', false);
  media.setTileWidth('f1', 640);
  assert.deepEqual(about(), []);
  await offer();
  assert.deepEqual(about(), [{type: 'receive_video', feed: 'f1', on: false}]); // no layer while paused
});

test('only changes are sent; resuming chooses the layer for the tile', async () => {
  const {media, about, offer} = meeting();
  await offer();
  media.setVideoWanted('f1', true); // a new subscription sends video already
  media.setTileWidth('f1', 300);
  assert.deepEqual(about(), [{type: 'layer', feed: 'f1', substream: 1}]);
  media.setVideoWanted('f1', false);
  media.setVideoWanted('f1', false);
  media.setTileWidth('f1', 0); // hidden: it keeps its layer
  media.setTileWidth('f1', 100); // no layer for paused video…
  media.setVideoWanted('f1', true); // …until it is wanted again
  assert.deepEqual(about().slice(1), [
    {type: 'receive_video', feed: 'f1', on: false},
    {type: 'receive_video', feed: 'f1', on: true},
    {type: 'layer', feed: 'f1', substream: 0},
  ]);
  assert.deepEqual(media.snapshot().subscriptions.map((s) => [s.videoWanted, s.videoOn]), [[true, true]]);
});

test('after a new offer (a restart) the wanted state is sent again', async () => {
  const {media, about, offer} = meeting();
  await offer();
  media.setVideoWanted('f1', false);
  await offer();
  assert.deepEqual(about(), [
    {type: 'receive_video', feed: 'f1', on: false},
    {type: 'receive_video', feed: 'f1', on: false},
  ]);
});

test('an unknown feed is ignored', () => {
  const {media, about} = meeting();
  media.setVideoWanted('nope', false);
  assert.deepEqual(about(), []);
});
