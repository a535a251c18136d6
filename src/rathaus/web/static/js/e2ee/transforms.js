// Media encryption on the main thread: attaches RTCRtpSenders and RTCRtpReceivers to the worker of
// worker.js and hands it the keys. DOM-free (WebRTC, Worker and WebCrypto only).
//
// API choice (one per E2eeTransforms, hence one per connection; never both on one connection):
// - `RTCRtpScriptTransform` (WebRTC Encoded Transform, the standard): `sender.transform = new
//   RTCRtpScriptTransform(worker, options)`. Needs nothing special in the RTCConfiguration.
// - `createEncodedStreams()` (Chromium's legacy "insertable streams"), only where the former is
//   missing: the streams are transferred to the worker. Older Chromiums need the RTCPeerConnection
//   created with `encodedInsertableStreams: true` for it, so peerConnectionConfig() adds that flag
//   for this API (only). The standard API needs no flag. (Chromium 156, tested: either API works with
//   or without the flag; it has both APIs, and the standard one is chosen.)
//
// Both must be set up synchronously: the sender right after addTrack/addTransceiver (before frames
// flow), the receiver inside `ontrack`.
//
// The instance is also a KeySink for keyring.js (addKey/removeKey), so it can be the Keyring's
// `receiver`; own keys go in with setSenderKey (from `onSenderKey`).

/** @typedef {import('./sframe.js').CipherSuite} CipherSuite */
/** @typedef {import('./frames.js').MediaKind} MediaKind */
/** @typedef {import('./worker.js').Stats} Stats */
/** @typedef {import('./worker.js').TransformOptions} TransformOptions */
/** @typedef {'script-transform' | 'encoded-streams'} TransformApi */

/**
 * The legacy API's extra method on RTCRtpSender/RTCRtpReceiver (not in lib.dom).
 * @typedef {{createEncodedStreams?: () => {readable: ReadableStream, writable: WritableStream}}} LegacyEndpoint
 */

/**
 * The API this browser offers, or null if it cannot do E2EE.
 * @returns {TransformApi | null}
 */
export function transformApi() {
  if (typeof globalThis.RTCRtpScriptTransform === 'function') return 'script-transform';
  const sender = globalThis.RTCRtpSender?.prototype;
  if (sender && typeof (/** @type {LegacyEndpoint} */ (/** @type {unknown} */ (sender))).createEncodedStreams === 'function') {
    return 'encoded-streams';
  }
  return null;
}

/**
 * An RTCConfiguration for a connection whose media E2eeTransforms will protect with `api`: adds
 * `encodedInsertableStreams: true` for the legacy API only.
 * @param {RTCConfiguration} [config]
 * @param {TransformApi | null} [api]
 * @returns {RTCConfiguration}
 */
export function peerConnectionConfig(config = {}, api = transformApi()) {
  if (api !== 'encoded-streams') return {...config};
  return /** @type {RTCConfiguration} */ ({...config, encodedInsertableStreams: true});
}

export class E2eeTransforms {
  /** @type {Worker} */ #worker;
  /** @type {TransformApi} */ #api;
  /** @type {Map<number, {resolve: (value: any) => void, reject: (error: Error) => void}>} */ #pending = new Map();
  #nextRequest = 1;
  #nextTransform = 1;
  #closed = false;

  /**
   * Whether this browser can encrypt media (either API).
   * @returns {boolean}
   */
  static supported() {
    return transformApi() !== null;
  }

  /**
   * @param {{api?: TransformApi, workerUrl?: string | URL}} [options] `api` forces one (tests);
   *   by default the standard API where present
   */
  constructor(options = {}) {
    const api = options.api ?? transformApi();
    if (!api) throw new Error('this browser has no WebRTC encoded transforms: end-to-end encryption is impossible');
    this.#api = api;
    this.#worker = new Worker(options.workerUrl ?? new URL('./worker.js', import.meta.url), {type: 'module', name: 'e2ee'});
    this.#worker.onmessage = (event) => this.#onMessage(event.data);
    this.#worker.onerror = (event) => {
      const error = new Error(`e2ee worker failed: ${event.message || 'could not load'}`);
      for (const {reject} of this.#pending.values()) reject(error);
      this.#pending.clear();
    };
  }

  /** The API in use. */
  get api() {
    return this.#api;
  }

  /** The RTCConfiguration for a connection this instance protects (see peerConnectionConfig). */
  peerConnectionConfig(/** @type {RTCConfiguration} */ config = {}) {
    return peerConnectionConfig(config, this.#api);
  }

  /**
   * Encrypts what this sender sends. Call right after addTrack/addTransceiver; set once per sender
   * (replaceTrack keeps it).
   * @param {RTCRtpSender} sender
   * @param {MediaKind} [kind] defaults to the track's kind
   * @returns {string} the transform's id in stats()
   */
  protectSender(sender, kind) {
    return this.#attach(sender, 'sender', kind ?? /** @type {MediaKind | undefined} */ (sender.track?.kind));
  }

  /**
   * Decrypts what this receiver receives. Call synchronously in `ontrack`.
   * @param {RTCRtpReceiver} receiver
   * @param {MediaKind} [kind] defaults to the track's kind
   * @returns {string} the transform's id in stats()
   */
  protectReceiver(receiver, kind) {
    return this.#attach(receiver, 'receiver', kind ?? /** @type {MediaKind} */ (receiver.track.kind));
  }

  /**
   * @param {RTCRtpSender | RTCRtpReceiver} endpoint
   * @param {'sender' | 'receiver'} role
   * @param {MediaKind | undefined} kind
   */
  #attach(endpoint, role, kind) {
    if (this.#closed) throw new Error('E2eeTransforms is closed');
    if (kind !== 'audio' && kind !== 'video') throw new Error(`cannot protect a ${role} of kind ${String(kind)}`);
    /** @type {TransformOptions} */
    const options = {role, kind, id: `${role}-${kind}-${this.#nextTransform++}`};
    if (this.#api === 'script-transform') {
      endpoint.transform = new RTCRtpScriptTransform(this.#worker, options);
    } else {
      const legacy = /** @type {LegacyEndpoint} */ (/** @type {unknown} */ (endpoint));
      if (typeof legacy.createEncodedStreams !== 'function') throw new Error('createEncodedStreams is missing');
      const {readable, writable} = legacy.createEncodedStreams();
      this.#worker.postMessage({type: 'streams', options, readable, writable}, [readable, writable]);
    }
    return options.id;
  }

  /**
   * Own key: encrypt with it from now on. A KID given again continues its counter.
   * @param {CipherSuite} suite
   * @param {bigint} kid
   * @param {CryptoKey} baseKey the HKDF base key (non-extractable is fine: it is cloned, not exported)
   * @returns {Promise<void>} once the worker uses it
   */
  setSenderKey(suite, kid, baseKey) {
    return this.#request({type: 'sender-key', suite, kid, key: baseKey});
  }

  /**
   * Forgets own keys (a participation ended): senders drop frames until the next setSenderKey.
   * @returns {Promise<void>}
   */
  forgetSenderKeys() {
    return this.#request({type: 'forget-sender'});
  }

  /**
   * A remote sender's key (added, or replacing the key of that KID).
   * @param {CipherSuite} suite
   * @param {bigint} kid
   * @param {CryptoKey} baseKey
   * @returns {Promise<void>} once the worker can decrypt with it
   */
  addReceiverKey(suite, kid, baseKey) {
    return this.#request({type: 'receiver-key', suite, kid, key: baseKey});
  }

  /**
   * KeySink.addKey of keyring.js: same as addReceiverKey.
   * @param {CipherSuite} suite
   * @param {bigint} kid
   * @param {CryptoKey} baseKey
   * @returns {Promise<void>}
   */
  addKey(suite, kid, baseKey) {
    return this.addReceiverKey(suite, kid, baseKey);
  }

  /**
   * Forgets a remote sender's key.
   * @param {bigint} kid
   * @returns {Promise<void>}
   */
  removeKey(kid) {
    return this.#request({type: 'remove-key', kid});
  }

  /**
   * Plain mode on or off (worker.js): on while a participant who cannot encrypt is in the meeting.
   * @param {boolean} allowed
   * @returns {Promise<void>}
   */
  setPlain(allowed) {
    return this.#request({type: 'plain', allowed});
  }

  /**
   * Asks the sender of a protected receiver for a keyframe (the standard API only; the legacy one
   * has no way to, and the decoder's own requests must do).
   * @param {string} transformId what protectReceiver returned
   * @returns {Promise<void>}
   */
  requestKeyFrame(transformId) {
    return this.#request({type: 'key-frame', transform: transformId});
  }

  /**
   * Counters of the worker (after every key message sent before).
   * @returns {Promise<Stats>}
   */
  stats() {
    return this.#request({type: 'stats'});
  }

  /** Stops the worker: every protected sender and receiver stops passing frames. */
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.terminate();
    const error = new Error('E2eeTransforms is closed');
    for (const {reject} of this.#pending.values()) reject(error);
    this.#pending.clear();
  }

  /**
   * @param {Record<string, unknown>} message
   * @returns {Promise<any>}
   */
  #request(message) {
    if (this.#closed) return Promise.reject(new Error('E2eeTransforms is closed'));
    const id = this.#nextRequest++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, {resolve, reject});
      this.#worker.postMessage({...message, id});
    });
  }

  /** @param {any} data */
  #onMessage(data) {
    const pending = data && this.#pending.get(data.id);
    if (!pending) return;
    this.#pending.delete(data.id);
    if (data.type === 'stats') {
      const {type: _type, id: _id, ...stats} = data;
      pending.resolve(stats);
    } else if (data.ok) {
      pending.resolve(undefined);
    } else {
      pending.reject(new Error(`e2ee worker: ${data.error}`));
    }
  }
}
