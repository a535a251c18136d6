// Rathaus signaling protocol (docs/protocol.md): message constructors, parsing and the
// Signaling connection. No DOM access in this module; WebSocket and timers only.

/** @typedef {'moderator' | 'member' | 'guest'} Role */
/** @typedef {{id: string, name: string, audio: boolean, video: boolean, role: Role}} Participant */
/** @typedef {'camera' | 'screen'} FeedKind */
/** @typedef {{id: string, participant: string, kind: FeedKind}} Feed */
/** @typedef {{urls: string | string[], username?: string, credential?: string}} IceServer */
/** @typedef {'left' | 'replaced' | 'timeout' | 'shutdown' | 'denied' | 'removed' | 'ended'} ByeReason */
/** @typedef {'waiting' | 'no_moderator'} LobbyStatus */
/** @typedef {0 | 1 | 2} Substream */

/**
 * @typedef {{type: 'welcome', self: Participant, resume: string, participants: Participant[],
 *   feeds: Feed[], ice_servers: IceServer[], media_available: boolean, locked: boolean,
 *   waiting: Participant[]}} WelcomeMessage
 * @typedef {{type: 'participant_joined', participant: Participant}} ParticipantJoinedMessage
 * @typedef {{type: 'participant_updated', participant: Participant}} ParticipantUpdatedMessage
 * @typedef {{type: 'participant_left', id: string}} ParticipantLeftMessage
 * @typedef {{type: 'feed_added', feed: Feed}} FeedAddedMessage
 * @typedef {{type: 'feed_removed', id: string}} FeedRemovedMessage
 * @typedef {{type: 'published', kind: FeedKind, sdp: string}} PublishedMessage
 * @typedef {{type: 'offer', feed: string, sdp: string}} OfferMessage
 * @typedef {{type: 'talking', participant: string, talking: boolean}} TalkingMessage
 * @typedef {{type: 'media_unavailable'}} MediaUnavailableMessage
 * @typedef {{type: 'media_restored'}} MediaRestoredMessage
 * @typedef {{type: 'error', code: string, message: string, ref: string | null}} ErrorMessage
 * @typedef {{type: 'pong'}} PongMessage
 * @typedef {{type: 'bye', reason: ByeReason}} ByeMessage
 * @typedef {{type: 'lobby', status: LobbyStatus}} LobbyMessage
 * @typedef {{type: 'knock', participant: Participant}} KnockMessage
 * @typedef {{type: 'knock_ended', id: string}} KnockEndedMessage
 * @typedef {{type: 'lobby_list', waiting: Participant[]}} LobbyListMessage
 * @typedef {{type: 'moderation', action: string, by: string, target: string | null}} ModerationMessage
 * @typedef {{type: 'muted' | 'video_stopped' | 'screen_stopped', by: string}} ModeratedMessage
 * @typedef {{type: 'meeting_updated', locked: boolean}} MeetingUpdatedMessage
 */

/**
 * @typedef {WelcomeMessage | ParticipantJoinedMessage | ParticipantUpdatedMessage |
 *   ParticipantLeftMessage | FeedAddedMessage | FeedRemovedMessage | PublishedMessage | OfferMessage |
 *   TalkingMessage | MediaUnavailableMessage | MediaRestoredMessage | ErrorMessage | PongMessage |
 *   ByeMessage | LobbyMessage | KnockMessage | KnockEndedMessage | LobbyListMessage |
 *   ModerationMessage | ModeratedMessage | MeetingUpdatedMessage} ServerMessage
 */

/** @typedef {ServerMessage['type']} ServerMessageType */

/**
 * @typedef {{type: 'join', name: string, resume?: string, password?: string}
 *   | {type: 'publish', kind: FeedKind, sdp: string, restart?: boolean}
 *   | {type: 'unpublish', kind: FeedKind}
 *   | {type: 'trickle', pc: string, candidate: RTCIceCandidateInit | null}
 *   | {type: 'subscribe', feed: string}
 *   | {type: 'answer', feed: string, sdp: string}
 *   | {type: 'unsubscribe', feed: string}
 *   | {type: 'layer', feed: string, substream: Substream}
 *   | {type: 'restart', feed: string}
 *   | {type: 'media', audio: boolean, video: boolean}
 *   | {type: 'leave'}
 *   | {type: 'ping'}
 *   | {type: 'admit' | 'deny' | 'mute' | 'stop_video' | 'stop_screen' | 'promote', id: string}
 *   | {type: 'admit_all' | 'mute_all' | 'end'}
 *   | {type: 'remove', id: string, bar: boolean}
 *   | {type: 'lock', locked: boolean}} ClientMessage
 */

/** Error codes of docs/protocol.md. */
export const ERROR_CODES = Object.freeze([
  'bad_message', 'too_large', 'rate_limited', 'not_joined', 'already_joined', 'invalid_name',
  'unknown_feed', 'media_unavailable', 'media_failed', 'unknown_room', 'resume_failed', 'internal',
  'meeting_full', 'barred', 'guests_not_allowed', 'meeting_locked', 'password_required',
  'wrong_password', 'locked', 'not_admitted', 'forbidden', 'unknown_participant',
]);

export const MAX_NAME_LENGTH = 64;
export const PING_INTERVAL_MS = 5000;
/** The server closes a socket silent for 10 s; we treat a server silent that long as dead. */
export const SILENCE_TIMEOUT_MS = 10000;

// ---------------------------------------------------------------------------------------------
// Client → server constructors

export const msg = Object.freeze({
  /** @param {string} name @param {string} [resume] @param {string} [password] @returns {ClientMessage} */
  join(name, resume, password) {
    if (resume) return { type: 'join', name, resume };
    return password ? { type: 'join', name, password } : { type: 'join', name };
  },
  /** @param {FeedKind} kind @param {string} sdp @param {boolean} [restart] @returns {ClientMessage} */
  publish(kind, sdp, restart) {
    return restart ? { type: 'publish', kind, sdp, restart: true } : { type: 'publish', kind, sdp };
  },
  /** @param {FeedKind} kind @returns {ClientMessage} */
  unpublish(kind) { return { type: 'unpublish', kind }; },
  /** @param {string} pc @param {RTCIceCandidateInit | null} candidate @returns {ClientMessage} */
  trickle(pc, candidate) { return { type: 'trickle', pc, candidate }; },
  /** @param {string} feed @returns {ClientMessage} */
  subscribe(feed) { return { type: 'subscribe', feed }; },
  /** @param {string} feed @param {string} sdp @returns {ClientMessage} */
  answer(feed, sdp) { return { type: 'answer', feed, sdp }; },
  /** @param {string} feed @returns {ClientMessage} */
  unsubscribe(feed) { return { type: 'unsubscribe', feed }; },
  /** @param {string} feed @param {Substream} substream @returns {ClientMessage} */
  layer(feed, substream) { return { type: 'layer', feed, substream }; },
  /** @param {string} feed @returns {ClientMessage} */
  restart(feed) { return { type: 'restart', feed }; },
  /** @param {boolean} audio @param {boolean} video @returns {ClientMessage} */
  media(audio, video) { return { type: 'media', audio, video }; },
  /** @returns {ClientMessage} */
  leave() { return { type: 'leave' }; },
  /** @returns {ClientMessage} */
  ping() { return { type: 'ping' }; },
  // moderators only
  /** @param {'admit' | 'deny' | 'mute' | 'stop_video' | 'stop_screen' | 'promote'} type
   * @param {string} id @returns {ClientMessage} */
  about(type, id) { return { type, id }; },
  /** @param {'admit_all' | 'mute_all' | 'end'} type @returns {ClientMessage} */
  all(type) { return { type }; },
  /** @param {string} id @param {boolean} bar @returns {ClientMessage} */
  remove(id, bar) { return { type: 'remove', id, bar }; },
  /** @param {boolean} locked @returns {ClientMessage} */
  lock(locked) { return { type: 'lock', locked }; },
});

/** Trim a display name and check it the way the server does (1–64 characters, no controls).
 * @param {string} raw @returns {string | null} the trimmed name, or null if invalid */
export function normalizeName(raw) {
  const name = raw.trim();
  // eslint-disable-next-line no-control-regex
  if (!name || [...name].length > MAX_NAME_LENGTH || /[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    return null;
  }
  return name;
}

/** Picks the simulcast substream for a tile of this rendered width (CSS pixels).
 * @param {number} width @returns {Substream} */
export function substreamForWidth(width) {
  if (width >= 480) return 2;
  if (width >= 240) return 1;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Server → client parsing: check the shape once at the edge, hand typed objects inward.

/** @param {unknown} v @returns {v is Record<string, unknown>} */
function isObject(v) { return typeof v === 'object' && v !== null && !Array.isArray(v); }
/** @param {unknown} v @returns {v is string} */
function isString(v) { return typeof v === 'string'; }

/** @param {unknown} v @returns {Participant | null} */
function parseParticipant(v) {
  if (!isObject(v) || !isString(v.id) || !isString(v.name)) return null;
  const role = v.role === 'moderator' || v.role === 'member' ? v.role : 'guest';
  return { id: v.id, name: v.name, audio: v.audio === true, video: v.video === true, role };
}

/** @param {unknown} v @returns {Feed | null} */
function parseFeed(v) {
  if (!isObject(v) || !isString(v.id) || !isString(v.participant)) return null;
  if (v.kind !== 'camera' && v.kind !== 'screen') return null;
  return { id: v.id, participant: v.participant, kind: v.kind };
}

/** @param {unknown} v @returns {IceServer | null} */
function parseIceServer(v) {
  if (!isObject(v)) return null;
  const urls = v.urls;
  if (!(isString(urls) || (Array.isArray(urls) && urls.every(isString)))) return null;
  /** @type {IceServer} */
  const server = { urls: /** @type {string | string[]} */ (urls) };
  if (isString(v.username)) server.username = v.username;
  if (isString(v.credential)) server.credential = v.credential;
  return server;
}

/** @template T @param {unknown} v @param {(x: unknown) => T | null} parse @returns {T[] | null} */
function parseList(v, parse) {
  if (!Array.isArray(v)) return null;
  const out = [];
  for (const item of v) {
    const parsed = parse(item);
    if (parsed === null) return null;
    out.push(parsed);
  }
  return out;
}

/** SDP arrives as a string; an RTCSessionDescriptionInit-shaped object is accepted too.
 * @param {unknown} v @returns {string | null} */
function parseSdp(v) {
  if (isString(v)) return v;
  if (isObject(v) && isString(v.sdp)) return v.sdp;
  return null;
}

/**
 * Parses one text frame from the server. Returns null for anything malformed or unknown.
 * @param {string} text
 * @returns {ServerMessage | null}
 */
export function parseServerMessage(text) {
  /** @type {unknown} */
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isObject(data) || !isString(data.type)) return null;
  switch (data.type) {
    case 'welcome': {
      const self = parseParticipant(data.self);
      const participants = parseList(data.participants ?? [], parseParticipant);
      const feeds = parseList(data.feeds ?? [], parseFeed);
      const iceServers = parseList(data.ice_servers ?? [], parseIceServer);
      const waiting = parseList(data.waiting ?? [], parseParticipant);
      if (!self || !isString(data.resume) || !participants || !feeds || !iceServers || !waiting) {
        return null;
      }
      return {
        type: 'welcome', self, resume: data.resume, participants, feeds, ice_servers: iceServers,
        media_available: data.media_available !== false, locked: data.locked === true, waiting,
      };
    }
    case 'participant_joined':
    case 'participant_updated': {
      const participant = parseParticipant(data.participant);
      return participant ? { type: data.type, participant } : null;
    }
    case 'participant_left':
    case 'feed_removed':
      return isString(data.id) ? { type: data.type, id: data.id } : null;
    case 'feed_added': {
      const feed = parseFeed(data.feed);
      return feed ? { type: 'feed_added', feed } : null;
    }
    case 'published': {
      const sdp = parseSdp(data.sdp);
      if (!sdp || (data.kind !== 'camera' && data.kind !== 'screen')) return null;
      return { type: 'published', kind: data.kind, sdp };
    }
    case 'offer': {
      const sdp = parseSdp(data.sdp);
      return sdp && isString(data.feed) ? { type: 'offer', feed: data.feed, sdp } : null;
    }
    case 'talking':
      if (!isString(data.participant) || typeof data.talking !== 'boolean') return null;
      return { type: 'talking', participant: data.participant, talking: data.talking };
    case 'media_unavailable':
    case 'media_restored':
    case 'pong':
      return { type: data.type };
    case 'error':
      if (!isString(data.code)) return null;
      return {
        type: 'error', code: data.code, message: isString(data.message) ? data.message : '',
        ref: isString(data.ref) ? data.ref : null,
      };
    case 'bye': {
      const reason = data.reason;
      const known = ['left', 'replaced', 'timeout', 'shutdown', 'denied', 'removed', 'ended'];
      if (!isString(reason) || !known.includes(reason)) return null;
      return { type: 'bye', reason: /** @type {ByeReason} */ (reason) };
    }
    case 'lobby':
      if (data.status !== 'waiting' && data.status !== 'no_moderator') return null;
      return { type: 'lobby', status: data.status };
    case 'knock': {
      const participant = parseParticipant(data.participant);
      return participant ? { type: 'knock', participant } : null;
    }
    case 'knock_ended':
      return isString(data.id) ? { type: 'knock_ended', id: data.id } : null;
    case 'lobby_list': {
      const waiting = parseList(data.waiting ?? [], parseParticipant);
      return waiting ? { type: 'lobby_list', waiting } : null;
    }
    case 'moderation':
      if (!isString(data.action) || !isString(data.by)) return null;
      return {
        type: 'moderation', action: data.action, by: data.by,
        target: isString(data.target) ? data.target : null,
      };
    case 'muted':
    case 'video_stopped':
    case 'screen_stopped':
      return { type: data.type, by: isString(data.by) ? data.by : '' };
    case 'meeting_updated':
      return typeof data.locked === 'boolean' ? { type: 'meeting_updated', locked: data.locked } : null;
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// The connection

/**
 * Connection status as seen by the client:
 * idle → connecting → (waiting in the lobby →) joined ⇄ reconnecting → closed.
 * @typedef {'idle' | 'connecting' | 'waiting' | 'joined' | 'reconnecting' | 'closed'} SignalingStatus
 */

/**
 * @typedef {{status: SignalingStatus, resumed?: boolean, code?: string, lobby?: LobbyStatus}} StatusDetail
 *   `resumed` on 'joined': true if the server took the old participant over (same id, peer
 *   connections survive), false for a fresh join. `code` on 'closed': why (an error code from
 *   the server, 'bye_<reason>', 'close_<ws code>', or 'left').
 */

/** Close codes after which reconnecting makes no sense. */
const FATAL_CLOSE_CODES = new Set([4400, 4404, 4429]);

/** @param {number} attempt @returns {number} delay in ms: 0.5 s, 1 s, 2 s, … at most 10 s, ±20 % */
function backoffDelay(attempt) {
  const base = Math.min(10000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** @type {{ws: WebSocket, url: string, timer: ReturnType<typeof setInterval>} | null} */
let warm = null;

/**
 * Opens the signaling socket while the pre-join screen shows (pinging, not joined), so that
 * "Join meeting" costs one message instead of a connection set-up. The first Signaling for the
 * same URL adopts it. @param {string} url
 */
export function preconnect(url) {
  const ws = new WebSocket(url);
  const timer = setInterval(() => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg.ping()));
  }, PING_INTERVAL_MS);
  ws.addEventListener('close', () => {
    clearInterval(timer);
    if (warm && warm.ws === ws) warm = null;
  });
  warm = { ws, url, timer };
}

/** Closes the pre-opened socket (e.g. after signing in or out: the next one carries the new
 * cookie). */
export function closeWarm() {
  if (!warm) return;
  const { ws, timer } = warm;
  clearInterval(timer);
  warm = null;
  if (ws.readyState <= WebSocket.OPEN) ws.close(1000);
}

/** @param {string} url @returns {WebSocket | null} the pre-opened socket, if open */
function adoptWarmSocket(url) {
  if (!warm || warm.url !== url || warm.ws.readyState !== WebSocket.OPEN) return null;
  const { ws, timer } = warm;
  clearInterval(timer);
  warm = null;
  return ws;
}

/**
 * One signaling WebSocket with keepalive, resume and reconnect. Server messages are dispatched
 * as CustomEvents named after their `type` (detail = the typed message); status changes as
 * 'status' events (detail = StatusDetail). Use `on()` / `onStatus()` for typed listeners.
 */
export class Signaling extends EventTarget {
  /**
   * @param {string} url ws(s)://host/ws/rooms/<room>
   * @param {string} name the display name (already normalized)
   * @param {string} [password] the room password, if the room has one
   */
  constructor(url, name, password) {
    super();
    this.url = url;
    this.name = name;
    this.password = password || undefined;
    /** @type {LobbyStatus | null} set while waiting in the lobby */
    this.lobby = null;
    /** @type {SignalingStatus} */
    this.status = 'idle';
    /** @type {string | null} own participant id, after welcome */
    this.selfId = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** @type {string | null} */
    this.resumeToken = null;
    /** @type {boolean} set while the current socket is trying a resume */
    this.resuming = false;
    /** @type {boolean} whether the last welcome took the old participant over */
    this.resumed = false;
    /** @type {boolean} true once a welcome was received on any socket */
    this.everJoined = false;
    this.attempt = 0;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.reconnectTimer = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.pingTimer = null;
    this.lastReceived = 0;
    /** @type {boolean} a `bye` asked us to come back after the server's close */
    this.rejoinAfterClose = false;
  }

  /** @param {string} room @param {Location} [loc] @returns {string} */
  static urlFor(room, loc = globalThis.location) {
    const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${loc.host}/ws/rooms/${encodeURIComponent(room)}`;
  }

  /**
   * @template {ServerMessageType} K
   * @param {K} type
   * @param {(m: Extract<ServerMessage, {type: K}>) => void} handler
   */
  on(type, handler) {
    this.addEventListener(type, (e) => handler(/** @type {CustomEvent} */ (e).detail));
  }

  /** @param {(d: StatusDetail) => void} handler */
  onStatus(handler) {
    this.addEventListener('status', (e) => handler(/** @type {CustomEvent} */ (e).detail));
  }

  /** Opens the socket and joins. */
  connect() {
    if (this.status !== 'idle') throw new Error(`connect() in state ${this.status}`);
    this.setStatus({ status: 'connecting' });
    this.open();
  }

  /** @returns {boolean} whether the message went out (only while joined) */
  send(/** @type {ClientMessage} */ message) {
    if (this.status !== 'joined' || !this.ws || this.ws.readyState !== WebSocket.OPEN) {
      console.debug('rathaus: not sent (not joined):', message.type);
      return false;
    }
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Leaves the meeting: sends `leave`, waits briefly for `bye`, then closes. */
  async leave() {
    if ((this.status === 'joined' || this.status === 'waiting') && this.ws) {
      const ws = this.ws;
      const closed = new Promise((resolve) => {
        ws.addEventListener('close', resolve, { once: true });
        setTimeout(resolve, 1500);
      });
      this.rawSend(msg.leave());
      await closed;
    }
    this.close('left');
  }

  /** Closes for good (no reconnect). @param {string} [code] */
  close(code = 'left') {
    if (this.status === 'closed') return;
    this.stopTimers();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000);
    this.setStatus({ status: 'closed', code });
  }

  // -- internals --------------------------------------------------------------------------------

  /** @param {StatusDetail} detail */
  setStatus(detail) {
    this.status = detail.status;
    this.dispatchEvent(new CustomEvent('status', { detail }));
  }

  open() {
    const adopted = adoptWarmSocket(this.url);
    const ws = adopted ?? new WebSocket(this.url);
    this.ws = ws;
    const onOpen = () => {
      if (this.ws !== ws) return;
      this.resuming = this.resumeToken !== null;
      this.rawSend(msg.join(this.name, this.resumeToken ?? undefined, this.password));
      this.lastReceived = Date.now();
      this.startTimers();
    };
    if (adopted) onOpen();
    else ws.addEventListener('open', onOpen);
    ws.addEventListener('message', (e) => {
      if (this.ws !== ws) return;
      this.lastReceived = Date.now();
      if (typeof e.data !== 'string') return;
      const message = parseServerMessage(e.data);
      if (!message) {
        console.warn('rathaus: ignored malformed server message');
        return;
      }
      this.handle(message);
    });
    ws.addEventListener('close', (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.lost(e.code);
    });
  }

  /** @param {ClientMessage} message */
  rawSend(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** @param {ServerMessage} message */
  handle(message) {
    if (message.type === 'welcome') {
      const resumed = this.resuming && this.selfId === message.self.id;
      this.resuming = false;
      this.resumed = resumed;
      this.resumeToken = message.resume;
      this.selfId = message.self.id;
      this.everJoined = true;
      this.lobby = null;
      this.attempt = 0;
      // Media first (subscriptions start at once), then the status event that redraws the UI.
      this.status = 'joined';
      this.dispatchEvent(new CustomEvent('welcome', { detail: message }));
      this.setStatus({ status: 'joined', resumed });
      return;
    } else if (message.type === 'error') {
      console.warn(`rathaus: server error ${message.code} (ref ${message.ref ?? '-'}): ${message.message}`);
      if (message.code === 'resume_failed' && this.resuming) {
        // The old participant is gone: join afresh under the same name, on the same socket.
        this.resuming = false;
        this.resumeToken = null;
        this.rawSend(msg.join(this.name, undefined, this.password));
        return;
      }
      if (message.ref === 'join' && this.status !== 'joined' && message.code !== 'already_joined') {
        this.dispatchEvent(new CustomEvent('error', { detail: message }));
        this.close(message.code);
        return;
      }
    } else if (message.type === 'bye') {
      this.dispatchEvent(new CustomEvent('bye', { detail: message }));
      if (message.reason !== 'timeout' && message.reason !== 'shutdown') {
        this.close(`bye_${message.reason}`);
      } else {
        // timeout / shutdown: the participant is gone; come back as a fresh participant once
        // the server closes the socket (with 1000).
        this.resumeToken = null;
        this.rejoinAfterClose = true;
      }
      return;
    } else if (message.type === 'lobby') {
      // In the lobby: nothing of the meeting arrives until `welcome` (or `bye`).
      this.lobby = message.status;
      this.attempt = 0;
      this.dispatchEvent(new CustomEvent('lobby', { detail: message }));
      this.setStatus({ status: 'waiting', lobby: message.status });
      return;
    }
    this.dispatchEvent(new CustomEvent(message.type, { detail: message }));
  }

  /** @param {number} code */
  lost(code) {
    this.stopTimers();
    if (this.status === 'closed') return;
    const rejoin = this.rejoinAfterClose;
    this.rejoinAfterClose = false;
    // Someone waiting in the lobby who loses the connection knocks again (the place is lost).
    const knocking = this.lobby !== null || (this.status === 'reconnecting' && !this.everJoined);
    if (FATAL_CLOSE_CODES.has(code) || (!this.everJoined && !knocking) || (code === 1000 && !rejoin)) {
      // Never joined (unknown room, refused) or a deliberate close by the server: give up.
      this.close(code === 4404 ? 'unknown_room' : `close_${code}`);
      return;
    }
    if (this.status !== 'reconnecting') this.setStatus({ status: 'reconnecting' });
    const delay = backoffDelay(this.attempt++);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.status === 'reconnecting') this.open();
    }, delay);
  }

  startTimers() {
    this.stopTimers();
    this.pingTimer = setInterval(() => {
      if (!this.ws) return;
      if (Date.now() - this.lastReceived > SILENCE_TIMEOUT_MS) {
        // Half-open socket: drop it and reconnect.
        const ws = this.ws;
        this.ws = null;
        ws.close(4000);
        this.lost(4000);
        return;
      }
      this.rawSend(msg.ping());
    }, PING_INTERVAL_MS);
  }

  stopTimers() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }
}
