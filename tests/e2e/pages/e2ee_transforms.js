// Test harness for tests/e2e/test_e2ee_transforms.py: two RTCPeerConnections in one page, connected
// to each other (loopback), fake camera and microphone. pc1's senders and pc2's receivers are
// protected by two E2eeTransforms (two workers, as on two devices). The test serves this module on
// the Rathaus origin (so the CSP's script-src 'self' allows it) and drives it with page.evaluate.

import {E2eeTransforms, transformApi} from '/static/js/e2ee/transforms.js';
import {AES_256_GCM_SHA512_128, generateBaseKey, importBaseKey} from '/static/js/e2ee/sframe.js';

const SUITE = AES_256_GCM_SHA512_128;
/** A keyring-style KID: 32-bit prefix, epoch 0 (an 8-byte KID in the SFrame header). */
const KID = 0x5eed1234n << 32n;

/** @type {any} */
let state = null;

/** Which APIs this browser has. */
export function apis() {
  return {
    default: transformApi(),
    scriptTransform: typeof globalThis.RTCRtpScriptTransform === 'function',
    encodedStreams: typeof (/** @type {any} */ (RTCRtpSender.prototype)).createEncodedStreams === 'function',
  };
}

/**
 * Connects pc1 → pc2 with protected media, without any key yet.
 * @param {'script-transform' | 'encoded-streams' | undefined} api
 */
export async function start(api) {
  const send = new E2eeTransforms(api ? {api} : {});
  const recv = new E2eeTransforms(api ? {api} : {});
  const pc1 = new RTCPeerConnection(send.peerConnectionConfig());
  const pc2 = new RTCPeerConnection(recv.peerConnectionConfig());
  pc1.onicecandidate = (e) => { if (e.candidate) pc2.addIceCandidate(e.candidate); };
  pc2.onicecandidate = (e) => { if (e.candidate) pc1.addIceCandidate(e.candidate); };

  const stream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: {width: 320, height: 240, frameRate: 30},
  });
  for (const track of stream.getTracks()) {
    const sender = pc1.addTrack(track, stream);
    send.protectSender(sender, /** @type {'audio' | 'video'} */ (track.kind));
  }
  // E2EE meetings use VP8 and Opus (the clear prefixes of frames.js are theirs).
  for (const transceiver of pc1.getTransceivers()) {
    const kind = transceiver.sender.track?.kind ?? 'video';
    const codecs = RTCRtpSender.getCapabilities(kind)?.codecs ?? [];
    const wanted = kind === 'video' ? 'video/vp8' : 'audio/opus';
    transceiver.setCodecPreferences(codecs.filter((c) => c.mimeType.toLowerCase() === wanted));
  }

  const video = document.createElement('video');
  video.muted = true;
  video.autoplay = true;
  video.playsInline = true;
  document.body.append(video);
  pc2.ontrack = (event) => {
    // synchronously, before the first frame
    recv.protectReceiver(event.receiver, /** @type {'audio' | 'video'} */ (event.track.kind));
    if (event.track.kind === 'video') {
      video.srcObject = new MediaStream([event.track]);
      video.play().catch(() => undefined);
    }
  };

  await pc1.setLocalDescription();
  await pc2.setRemoteDescription(/** @type {RTCSessionDescription} */ (pc1.localDescription));
  await pc2.setLocalDescription();
  await pc1.setRemoteDescription(/** @type {RTCSessionDescription} */ (pc2.localDescription));

  const right = await importBaseKey(generateBaseKey(SUITE));
  const wrong = await importBaseKey(generateBaseKey(SUITE));
  state = {send, recv, pc1, pc2, video, stream, keys: {right, wrong}};
  return {api: send.api};
}

/** The sender's own key (the right one). */
export async function giveSenderKey() {
  await state.send.setSenderKey(SUITE, KID, state.keys.right);
}

/**
 * The receiver's key for the sender's KID.
 * @param {'right' | 'wrong'} which
 */
export async function giveReceiverKey(which) {
  await state.recv.addReceiverKey(SUITE, KID, state.keys[which]);
}

/** Worker counters, the video element, and what pc2 decoded. */
export async function snapshot() {
  const [send, recv, report] = await Promise.all([state.send.stats(), state.recv.stats(), state.pc2.getStats()]);
  let framesDecoded = 0;
  let codec = null;
  /** @type {Map<string, any>} */
  const byId = new Map();
  report.forEach((/** @type {any} */ s) => byId.set(s.id, s));
  for (const s of byId.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'video') {
      framesDecoded = s.framesDecoded ?? 0;
      codec = byId.get(s.codecId)?.mimeType ?? null;
    }
  }
  const v = state.video;
  return {
    send,
    recv,
    framesDecoded,
    codec,
    video: {width: v.videoWidth, height: v.videoHeight, currentTime: v.currentTime, paused: v.paused},
  };
}

export function stop() {
  if (!state) return;
  for (const track of state.stream.getTracks()) track.stop();
  state.pc1.close();
  state.pc2.close();
  state.send.close();
  state.recv.close();
  state = null;
}
