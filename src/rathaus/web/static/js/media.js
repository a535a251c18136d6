// WebRTC peer connections of one participant: publishers (camera with simulcast, screen) and one
// subscriber per remote feed. Talks to the server through Signaling only. No DOM access.

import { msg, substreamForWidth } from './protocol.js';

/** @typedef {import('./protocol.js').Feed} Feed */
/** @typedef {import('./protocol.js').FeedKind} FeedKind */
/** @typedef {import('./protocol.js').IceServer} IceServer */
/** @typedef {import('./protocol.js').Substream} Substream */
/** @typedef {import('./signaling.js').Signaling} Signaling */
/** @typedef {import('./protocol.js').WelcomeMessage} WelcomeMessage */
/** @typedef {import('./e2ee/transforms.js').E2eeTransforms} E2eeTransforms */

/** Simulcast as Janus expects it: rid h/m/l, full, half and quarter resolution. */
const ICE_DISCONNECTED_RESTART_MS = 4000;
const PUBLISH_DELAY_MAX_MS = 500;

const SIMULCAST_ENCODINGS = Object.freeze([
  { rid: 'h', active: true, maxBitrate: 900000 },
  { rid: 'm', active: true, maxBitrate: 300000, scaleResolutionDownBy: 2 },
  { rid: 'l', active: true, maxBitrate: 100000, scaleResolutionDownBy: 4 },
]);

/**
 * @typedef {object} PeerBase
 * @property {RTCPeerConnection} pc
 * @property {string} label             "pub:camera", "pub:screen" or "sub:<feed>"
 * @property {boolean} signalled        our SDP went out: local candidates may follow
 * @property {(RTCIceCandidateInit | null)[]} pendingCandidates
 * @property {boolean} restartPending   an ICE restart was asked for and not yet answered
 * @property {Promise<void>} chain      serializes SDP operations on this pc
 */
/** @typedef {PeerBase & {kind: FeedKind}} Publisher */
/**
 * @typedef {object} Subscriber
 * @property {Feed} feed
 * @property {(PeerBase & {}) | null} peer   null until the server's offer arrives
 * @property {MediaStream} stream
 * @property {boolean} answered
 * @property {Substream | null} wantLayer
 * @property {Substream | null} sentLayer
 * @property {boolean} wantVideo          the layout shows its tile (and no low-bandwidth mode leaves it out)
 * @property {boolean | null} sentVideo   what Janus does (a new subscription sends video; null: unknown)
 * @property {boolean} newTracks         tracks arrived that the page has not been told of yet
 */

/** Puts VP8 first in the codec preferences of a video transceiver, where the browser allows it.
 * @param {RTCRtpTransceiver} transceiver */
function preferVp8(transceiver) {
  const caps = globalThis.RTCRtpSender?.getCapabilities?.('video');
  if (!caps || typeof transceiver.setCodecPreferences !== 'function') return;
  const vp8 = caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/vp8');
  const rest = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== 'video/vp8');
  if (!vp8.length) return;
  try {
    transceiver.setCodecPreferences([...vp8, ...rest]);
  } catch (e) {
    console.warn('rathaus: setCodecPreferences failed', e);
  }
}

/**
 * Restricts a transceiver to one codec (E2EE meetings use VP8 and Opus only: the clear prefix of an
 * encrypted frame is codec-specific). RTX stays for video. Returns false where the browser refuses.
 * @param {RTCRtpTransceiver} transceiver @param {'audio' | 'video'} kind @param {'send' | 'receive'} side
 * @returns {boolean}
 */
export function onlyE2eeCodec(transceiver, kind, side) {
  const caps = side === 'send'
    ? globalThis.RTCRtpSender?.getCapabilities?.(kind)
    : globalThis.RTCRtpReceiver?.getCapabilities?.(kind);
  if (!caps || typeof transceiver.setCodecPreferences !== 'function') return false;
  const want = kind === 'video' ? 'video/vp8' : 'audio/opus';
  const main = caps.codecs.filter((c) => c.mimeType.toLowerCase() === want);
  if (!main.length) return false;
  const rtx = kind === 'video' ? caps.codecs.filter((c) => c.mimeType.toLowerCase() === 'video/rtx') : [];
  for (const list of [[...main, ...rtx], main]) {
    try {
      transceiver.setCodecPreferences(list);
      return true;
    } catch (e) {
      console.warn(`rathaus: e2ee: setCodecPreferences(${want}) failed`, e);
    }
  }
  return false;
}

/**
 * Events: 'stream' (detail {feed, stream}) when a remote feed has media;
 * 'feedclosed' (detail {feed}); 'availability' (detail {available}); 'failure' (detail {label}).
 */
export class MediaSession extends EventTarget {
  /**
   * @param {Signaling} signaling
   * @param {{transformsFor?: (m: WelcomeMessage) => E2eeTransforms | null}} [options]
   *   `transformsFor` decides on every `welcome` whether this meeting's media is end-to-end
   *   encrypted, and with which E2eeTransforms (one per page)
   */
  constructor(signaling, options = {}) {
    super();
    this.signaling = signaling;
    this.transformsFor = options.transformsFor ?? (() => null);
    /** @type {E2eeTransforms | null} set while this meeting's media is end-to-end encrypted */
    this.transforms = null;
    /** @type {WeakSet<RTCRtpSender | RTCRtpReceiver>} already attached to the transforms */
    this.protectedEndpoints = new WeakSet();
    /** @type {Map<string, string>} whose media each protected receiver decrypts: transform id → participant id */
    this.receiverOwners = new Map();
    /** @type {IceServer[]} */
    this.iceServers = [];
    /** @type {string | null} */
    this.selfId = null;
    this.available = true;
    this.closed = false;
    /** ICE restarts asked for so far (shown in the test hook). */
    this.iceRestarts = 0;
    /** First subscriptions still to answer before the camera is published. */
    this.awaitingAnswers = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.publishTimer = undefined;
    /** @type {Map<FeedKind, Publisher>} */
    this.publishers = new Map();
    /** @type {Map<string, Subscriber>} by feed id */
    this.subscribers = new Map();
    /** @type {{audio: MediaStreamTrack | null, video: MediaStreamTrack | null}} */
    this.camera = { audio: null, video: null };
    /** @type {MediaStreamTrack | null} */
    this.screen = null;
    this.localStream = new MediaStream();

    signaling.on('welcome', (m) => this.onWelcome(m, signaling.resumed));
    signaling.on('feed_added', (m) => this.addFeed(m.feed));
    signaling.on('feed_removed', (m) => this.closeSubscriber(m.id));
    signaling.on('participant_left', (m) => {
      for (const sub of [...this.subscribers.values()]) {
        if (sub.feed.participant === m.id) this.closeSubscriber(sub.feed.id);
      }
    });
    signaling.on('published', (m) => this.onPublished(m.kind, m.sdp));
    signaling.on('offer', (m) => this.onOffer(m.feed, m.sdp));
    signaling.on('media_unavailable', () => this.setAvailable(false));
    signaling.on('media_restored', () => this.setAvailable(true));
    signaling.on('error', (m) => {
      if (m.ref === 'publish' && m.code === 'media_failed') this.fail('pub');
    });
  }

  // -- local media ------------------------------------------------------------------------------

  /** Sets the camera publication's tracks (null = none); publishes on first use.
   * @param {MediaStreamTrack | null} audio @param {MediaStreamTrack | null} video */
  async setCameraTracks(audio, video) {
    this.camera = { audio, video };
    const pub = this.publishers.get('camera');
    if (pub) {
      const [audioTx, videoTx] = pub.pc.getTransceivers();
      await Promise.all([audioTx?.sender.replaceTrack(audio), videoTx?.sender.replaceTrack(video)]);
    } else if (this.canPublish() && (audio || video)) {
      await this.publish('camera');
    }
  }

  /** Starts (track) or stops (null) the screen publication. @param {MediaStreamTrack | null} track */
  async setScreenTrack(track) {
    this.screen = track;
    const pub = this.publishers.get('screen');
    if (track && pub) {
      await pub.pc.getTransceivers()[0]?.sender.replaceTrack(track);
    } else if (track && this.canPublish()) {
      await this.publish('screen');
    } else if (!track && pub) {
      this.closePeer(pub);
      this.publishers.delete('screen');
      this.signaling.send(msg.unpublish('screen'));
    }
  }

  // -- subscriptions ------------------------------------------------------------------------------

  /** Tells media how wide a feed's tile is rendered (CSS px); sends `layer` on change.
   * @param {string} feedId @param {number} width */
  setTileWidth(feedId, width) {
    const sub = this.subscribers.get(feedId);
    // A hidden tile (another page) measures 0: it keeps its layer for when it shows again.
    if (!sub || sub.feed.kind !== 'camera' || width <= 0) return;
    sub.wantLayer = substreamForWidth(width);
    this.flushLayer(sub);
  }

  /** @param {Subscriber} sub */
  flushLayer(sub) {
    if (!sub.answered || !sub.wantVideo || sub.wantLayer === null || sub.wantLayer === sub.sentLayer) return;
    if (this.signaling.send(msg.layer(sub.feed.id, sub.wantLayer))) sub.sentLayer = sub.wantLayer;
  }

  /** Receive a feed's video or not (its audio goes on); sends `receive_video` on change only.
   * @param {string} feedId @param {boolean} on */
  setVideoWanted(feedId, on) {
    const sub = this.subscribers.get(feedId);
    if (!sub) return;
    sub.wantVideo = on;
    this.flushVideo(sub);
  }

  /** @param {Subscriber} sub */
  flushVideo(sub) {
    if (!sub.answered || sub.wantVideo === sub.sentVideo) return;
    if (this.signaling.send(msg.receiveVideo(sub.feed.id, sub.wantVideo))) sub.sentVideo = sub.wantVideo;
    this.flushLayer(sub);
  }

  /** @param {Feed} feed */
  addFeed(feed) {
    if (feed.participant === this.selfId || this.subscribers.has(feed.id)) return;
    /** @type {Subscriber} */
    const sub = {
      feed, peer: null, stream: new MediaStream(), answered: false, wantLayer: null, sentLayer: null,
      wantVideo: true, sentVideo: true, newTracks: false,
    };
    this.subscribers.set(feed.id, sub);
    if (this.available) this.signaling.send(msg.subscribe(feed.id));
  }

  /** @param {string} feedId */
  closeSubscriber(feedId) {
    const sub = this.subscribers.get(feedId);
    if (!sub) return;
    this.subscribers.delete(feedId);
    if (sub.peer) this.closePeer(sub.peer);
    this.dispatchEvent(new CustomEvent('feedclosed', { detail: { feed: sub.feed } }));
  }

  /** @param {string} feedId @param {string} sdp */
  onOffer(feedId, sdp) {
    const sub = this.subscribers.get(feedId);
    if (!sub) {
      console.warn('rathaus: offer for a feed we did not subscribe to:', feedId);
      return;
    }
    if (!sub.peer) {
      const peer = this.newPeer(`sub:${feedId}`);
      peer.pc.addEventListener('track', (e) => {
        this.protectReceiver(e.transceiver, e.receiver, e.track.kind, sub.feed.participant);
        sub.stream.addTrack(e.track);
        sub.newTracks = true; // the page hears of them once the answer is out (below)
      });
      sub.peer = peer;
    }
    const peer = sub.peer;
    // A new offer (an ICE restart, or Janus subscribed afresh): whether it sends video is unsure.
    if (sub.answered) sub.sentVideo = null;
    this.enqueue(peer, async () => {
      await peer.pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await peer.pc.createAnswer();
      await peer.pc.setLocalDescription(answer);
      if (this.subscribers.get(feedId) !== sub) return;
      peer.restartPending = false;
      if (this.signaling.send(msg.answer(feedId, answer.sdp ?? ''))) {
        sub.answered = true;
        this.markSignalled(peer);
        this.flushVideo(sub);
        this.flushLayer(sub);
        this.answeredOne();
      }
      // The tile is built after the answer went: building it lays the page out, which would
      // hold the answer back by tens of milliseconds (and with it the first picture).
      if (sub.newTracks) {
        sub.newTracks = false;
        this.dispatchEvent(new CustomEvent('stream', { detail: { feed: sub.feed, stream: sub.stream } }));
      }
    });
  }

  // -- publications -------------------------------------------------------------------------------

  canPublish() {
    return this.available && !this.closed && this.signaling.status === 'joined';
  }

  /** @param {FeedKind} kind */
  async publish(kind) {
    const old = this.publishers.get(kind);
    if (old) this.closePeer(old);
    const peer = this.newPeer(`pub:${kind}`);
    /** @type {Publisher} */
    const pub = Object.assign(peer, { kind });
    this.publishers.set(kind, pub);
    const pc = pub.pc;
    if (kind === 'camera') {
      const audio = pc.addTransceiver(this.camera.audio ?? 'audio', { direction: 'sendonly', streams: [this.localStream] });
      this.protectSender(audio, 'audio');
      const video = pc.addTransceiver(this.camera.video ?? 'video', {
        direction: 'sendonly', streams: [this.localStream], sendEncodings: SIMULCAST_ENCODINGS.map((e) => ({ ...e })),
      });
      this.protectSender(video, 'video');
    } else {
      const video = pc.addTransceiver(this.screen ?? 'video', { direction: 'sendonly' });
      this.protectSender(video, 'video');
    }
    await this.offer(pub, false);
  }

  /** @param {Publisher} pub @param {boolean} restart */
  offer(pub, restart) {
    return this.enqueue(pub, async () => {
      const offer = await pub.pc.createOffer(restart ? { iceRestart: true } : {});
      await pub.pc.setLocalDescription(offer);
      if (this.publishers.get(pub.kind) !== pub) return;
      if (this.signaling.send(msg.publish(pub.kind, offer.sdp ?? '', restart))) this.markSignalled(pub);
    });
  }

  /** @param {FeedKind} kind @param {string} sdp */
  onPublished(kind, sdp) {
    const pub = this.publishers.get(kind);
    if (!pub) return;
    this.enqueue(pub, async () => {
      if (pub.pc.signalingState !== 'have-local-offer') return;
      await pub.pc.setRemoteDescription({ type: 'answer', sdp });
      pub.restartPending = false;
    });
  }

  // -- end-to-end encryption ----------------------------------------------------------------------

  /** Encrypts what a new sending transceiver sends (right after adding it), in VP8/Opus only;
   * without E2EE just prefers VP8. @param {RTCRtpTransceiver} transceiver @param {'audio' | 'video'} kind */
  protectSender(transceiver, kind) {
    const transforms = this.transforms;
    if (!transforms) {
      if (kind === 'video') preferVp8(transceiver);
      return;
    }
    onlyE2eeCodec(transceiver, kind, 'send');
    if (this.protectedEndpoints.has(transceiver.sender)) return;
    transforms.protectSender(transceiver.sender, kind);
    this.protectedEndpoints.add(transceiver.sender);
  }

  /** Decrypts what a receiver receives: synchronously in `ontrack`, before frames flow.
   * @param {RTCRtpTransceiver} transceiver @param {RTCRtpReceiver} receiver @param {string} kind
   * @param {string} owner the participant whose media it is */
  protectReceiver(transceiver, receiver, kind, owner) {
    const transforms = this.transforms;
    if (!transforms || this.protectedEndpoints.has(receiver)) return;
    if (kind !== 'audio' && kind !== 'video') return;
    try {
      this.receiverOwners.set(transforms.protectReceiver(receiver, kind), owner);
      this.protectedEndpoints.add(receiver);
    } catch (e) {
      console.error('rathaus: e2ee: could not protect a receiver', e);
    }
    onlyE2eeCodec(transceiver, kind, 'receive');
  }

  // -- lifecycle ---------------------------------------------------------------------------------

  /** @param {WelcomeMessage} m @param {boolean} resumed */
  onWelcome(m, resumed) {
    this.iceServers = m.ice_servers;
    this.selfId = m.self.id;
    this.transforms = this.transformsFor(m);
    if (!resumed) this.closeAll();
    this.available = m.media_available;
    this.dispatchEvent(new CustomEvent('availability', { detail: { available: this.available } }));
    if (!this.available) {
      this.closeAll();
      return;
    }
    const known = new Set(m.feeds.map((f) => f.id));
    for (const id of [...this.subscribers.keys()]) if (!known.has(id)) this.closeSubscriber(id);
    if (resumed) this.resync();
    for (const feed of m.feeds) this.addFeed(feed);
    if (!resumed) this.publishAfterReceiving(m.feeds.length);
  }

  /**
   * Receive first: a joiner sees the others sooner when its own publication (three simulcast
   * encodings to set up) does not compete for the CPU with the first subscriptions. Publishes
   * once those are answered, or after PUBLISH_DELAY_MAX_MS at the latest.
   * @param {number} subscriptions
   */
  publishAfterReceiving(subscriptions) {
    clearTimeout(this.publishTimer);
    this.awaitingAnswers = subscriptions;
    if (subscriptions === 0) {
      this.publishAll();
      return;
    }
    this.publishTimer = setTimeout(() => this.answeredOne(true), PUBLISH_DELAY_MAX_MS);
  }

  /** @param {boolean} [timeUp] */
  answeredOne(timeUp = false) {
    if (this.awaitingAnswers <= 0) return;
    this.awaitingAnswers = timeUp ? 0 : this.awaitingAnswers - 1;
    if (this.awaitingAnswers === 0) {
      clearTimeout(this.publishTimer);
      this.publishAll();
    }
  }

  /** After a resume: finish what the lost socket interrupted, restart ICE that failed meanwhile. */
  resync() {
    for (const pub of this.publishers.values()) {
      if (pub.pc.iceConnectionState === 'failed') this.restartPeer(pub.label);
      else if (!pub.signalled || pub.pc.signalingState === 'have-local-offer') {
        const sdp = pub.pc.localDescription?.sdp;
        if (sdp && this.signaling.send(msg.publish(pub.kind, sdp, pub.signalled))) this.markSignalled(pub);
      }
    }
    for (const sub of this.subscribers.values()) {
      if (!sub.peer) this.signaling.send(msg.subscribe(sub.feed.id));
      else if (sub.peer.pc.iceConnectionState === 'failed') this.restartPeer(sub.peer.label);
      else if (!sub.answered && sub.peer.pc.localDescription) {
        if (this.signaling.send(msg.answer(sub.feed.id, sub.peer.pc.localDescription.sdp))) {
          sub.answered = true;
          this.markSignalled(sub.peer);
        }
      }
      if (sub.answered) {
        this.flushVideo(sub);
        this.flushLayer(sub);
      }
    }
  }

  publishAll() {
    if (!this.canPublish()) return;
    const work = [];
    if (this.camera.audio || this.camera.video) work.push(this.publish('camera'));
    if (this.screen && this.screen.readyState === 'live') work.push(this.publish('screen'));
    Promise.all(work).catch((e) => console.error('rathaus: publish failed', e));
  }

  /** @param {boolean} available */
  setAvailable(available) {
    this.available = available;
    this.closeAll();
    this.dispatchEvent(new CustomEvent('availability', { detail: { available } }));
    if (available) this.publishAll();
  }

  /** Closes every peer connection (local tracks stay with the caller). */
  closeAll() {
    for (const pub of this.publishers.values()) this.closePeer(pub);
    this.publishers.clear();
    for (const id of [...this.subscribers.keys()]) this.closeSubscriber(id);
    this.receiverOwners.clear();
  }

  close() {
    this.closed = true;
    this.closeAll();
  }

  // -- peer plumbing -----------------------------------------------------------------------------

  /** @param {string} label @returns {PeerBase} */
  newPeer(label) {
    /** @type {RTCConfiguration} */
    const config = { iceServers: this.iceServers, bundlePolicy: 'max-bundle' };
    const pc = new RTCPeerConnection(this.transforms ? this.transforms.peerConnectionConfig(config) : config);
    /** @type {PeerBase} */
    const peer = {
      pc, label, signalled: false, pendingCandidates: [], restartPending: false, chain: Promise.resolve(),
    };
    pc.addEventListener('icecandidate', (e) => {
      const candidate = e.candidate ? e.candidate.toJSON() : null;
      if (peer.signalled) this.signaling.send(msg.trickle(label, candidate));
      else peer.pendingCandidates.push(candidate);
    });
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let disconnectedTimer;
    pc.addEventListener('iceconnectionstatechange', () => {
      console.info(`rathaus: ${label} ICE ${pc.iceConnectionState}`);
      clearTimeout(disconnectedTimer);
      if (pc.iceConnectionState === 'failed') this.restartPeer(label);
      // "failed" takes Chromium ~30 s; a path that stays "disconnected" this long is restarted.
      if (pc.iceConnectionState === 'disconnected') {
        disconnectedTimer = setTimeout(() => {
          if (pc.iceConnectionState === 'disconnected') this.restartPeer(label);
        }, ICE_DISCONNECTED_RESTART_MS);
      }
    });
    return peer;
  }

  /** @param {PeerBase} peer */
  markSignalled(peer) {
    peer.signalled = true;
    const pending = peer.pendingCandidates.splice(0);
    for (const c of pending) this.signaling.send(msg.trickle(peer.label, c));
  }

  /** ICE restart of one peer connection, by label. @param {string} label */
  restartPeer(label) {
    if (this.closed || !this.available || this.signaling.status !== 'joined') return; // resync() retries
    this.iceRestarts += 1;
    if (label.startsWith('pub:')) {
      const pub = this.publishers.get(/** @type {FeedKind} */ (label.slice(4)));
      if (!pub || pub.restartPending) return;
      pub.restartPending = true;
      pub.signalled = false;
      this.offer(pub, true);
    } else {
      const sub = this.subscribers.get(label.slice(4));
      if (!sub || !sub.peer || sub.peer.restartPending) return;
      sub.peer.restartPending = true;
      this.signaling.send(msg.restart(sub.feed.id));
    }
  }

  /** @param {PeerBase} peer @param {() => Promise<void>} work @returns {Promise<void>} */
  enqueue(peer, work) {
    peer.chain = peer.chain.then(work).catch((e) => {
      console.error(`rathaus: ${peer.label}: ${e instanceof Error ? e.message : e}`);
      this.fail(peer.label);
    });
    return peer.chain;
  }

  /** @param {string} label */
  fail(label) {
    this.dispatchEvent(new CustomEvent('failure', { detail: { label } }));
  }

  /** @param {PeerBase} peer */
  closePeer(peer) {
    peer.pendingCandidates = [];
    try {
      peer.pc.close();
    } catch {
      // already closed
    }
  }

  /** The peer connections whose bandwidth estimates count (bandwidth.js): every subscription,
   * and the publications that send video. */
  peers() {
    const incoming = [...this.subscribers.values()].flatMap((s) => (s.peer ? [s.peer.pc] : []));
    const outgoing = [...this.publishers.values()]
      .filter((p) => (p.kind === 'camera' ? !!this.camera.video : !!this.screen))
      .map((p) => p.pc);
    return { incoming, outgoing };
  }

  /** Read-only summary for the test hook. */
  snapshot() {
    return {
      available: this.available,
      iceRestarts: this.iceRestarts,
      publishing: Object.fromEntries(
        [...this.publishers].map(([kind, p]) => [kind, p.pc.connectionState]),
      ),
      subscriptions: [...this.subscribers.values()].map((s) => ({
        feed: s.feed.id, participant: s.feed.participant, kind: s.feed.kind,
        state: s.peer ? s.peer.pc.connectionState : 'new', layer: s.sentLayer,
        videoWanted: s.wantVideo, videoOn: s.sentVideo,
      })),
    };
  }
}
