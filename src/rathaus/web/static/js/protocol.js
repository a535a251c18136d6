// Rathaus signaling protocol (docs/protocol.md): the messages, their constructors and parsing.
// No DOM and no I/O here; signaling.js holds the connection.

/** @typedef {'moderator' | 'member' | 'guest'} Role */
/**
 * A device's public keys (docs/protocol.md "End-to-end encryption"); `e2ee`: it can encrypt media.
 * @typedef {{id: string, x25519: string, ed25519: string, e2ee: boolean}} Device
 */
/** @typedef {{id: string, name: string, audio: boolean, video: boolean, role: Role, device: Device | null}} Participant */
/** @typedef {{encrypted: boolean, allow_unencrypted: boolean}} E2eeState */
/** @typedef {'camera' | 'screen'} FeedKind */
/** @typedef {{id: string, participant: string, kind: FeedKind}} Feed */
/** @typedef {{urls: string | string[], username?: string, credential?: string}} IceServer */
/** @typedef {'left' | 'replaced' | 'timeout' | 'shutdown' | 'denied' | 'removed' | 'ended'} ByeReason */
/** @typedef {'waiting' | 'no_moderator'} LobbyStatus */
/** @typedef {0 | 1 | 2} Substream */

/**
 * @typedef {{type: 'welcome', self: Participant, resume: string, participants: Participant[],
 *   feeds: Feed[], ice_servers: IceServer[], media_available: boolean, locked: boolean,
 *   waiting: Participant[], e2ee: E2eeState, e2ee_required: boolean}} WelcomeMessage
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
 * @typedef {{type: 'key_envelope', from: string, envelope: string}} KeyEnvelopeMessage
 * @typedef {{type: 'key_request', from: string}} KeyRequestMessage
 * @typedef {{type: 'e2ee_refused', name: string}} E2eeRefusedMessage
 * @typedef {{type: 'e2ee_state'} & E2eeState} E2eeStateMessage
 */

/**
 * @typedef {WelcomeMessage | ParticipantJoinedMessage | ParticipantUpdatedMessage |
 *   ParticipantLeftMessage | FeedAddedMessage | FeedRemovedMessage | PublishedMessage | OfferMessage |
 *   TalkingMessage | MediaUnavailableMessage | MediaRestoredMessage | ErrorMessage | PongMessage |
 *   ByeMessage | LobbyMessage | KnockMessage | KnockEndedMessage | LobbyListMessage |
 *   ModerationMessage | ModeratedMessage | MeetingUpdatedMessage | KeyEnvelopeMessage |
 *   KeyRequestMessage | E2eeStateMessage | E2eeRefusedMessage} ServerMessage
 */

/** @typedef {ServerMessage['type']} ServerMessageType */

/**
 * @typedef {{type: 'join', name: string, resume?: string, password?: string, invite?: string,
 *     device?: Device}
 *   | {type: 'publish', kind: FeedKind, sdp: string, restart?: boolean}
 *   | {type: 'unpublish', kind: FeedKind}
 *   | {type: 'trickle', pc: string, candidate: RTCIceCandidateInit | null}
 *   | {type: 'subscribe', feed: string}
 *   | {type: 'answer', feed: string, sdp: string}
 *   | {type: 'unsubscribe', feed: string}
 *   | {type: 'layer', feed: string, substream: Substream}
 *   | {type: 'restart', feed: string}
 *   | {type: 'media', audio: boolean, video: boolean}
 *   | {type: 'key_envelope', to: string, envelope: string}
 *   | {type: 'key_envelopes', envelopes: {to: string, envelope: string}[]}
 *   | {type: 'key_request', to: string}
 *   | {type: 'leave'}
 *   | {type: 'ping'}
 *   | {type: 'admit' | 'deny' | 'mute' | 'stop_video' | 'stop_screen' | 'promote', id: string}
 *   | {type: 'admit_all' | 'mute_all' | 'end'}
 *   | {type: 'remove', id: string, bar: boolean}
 *   | {type: 'lock', locked: boolean}
 *   | {type: 'allow_unencrypted', allowed: boolean}} ClientMessage
 */

/** Error codes of docs/protocol.md. */
export const ERROR_CODES = Object.freeze([
  'bad_message', 'too_large', 'rate_limited', 'not_joined', 'already_joined', 'invalid_name',
  'unknown_feed', 'media_unavailable', 'media_failed', 'unknown_room', 'resume_failed', 'internal',
  'meeting_full', 'barred', 'guests_not_allowed', 'meeting_locked', 'password_required',
  'wrong_password', 'locked', 'not_admitted', 'forbidden', 'unknown_participant', 'e2ee_required',
  'guest_link_expired', 'lobby_full',
]);

export const MAX_NAME_LENGTH = 64;
export const PING_INTERVAL_MS = 5000;
/** The server closes a socket silent for 10 s; we treat a server silent that long as dead. */
export const SILENCE_TIMEOUT_MS = 10000;

// ---------------------------------------------------------------------------------------------
// Client → server constructors

/** The server's limit of envelopes in one `key_envelopes`. */
export const MAX_ENVELOPES_PER_MESSAGE = 100;
/** Characters of envelopes (and ids) per `key_envelopes`: the socket takes frames up to 64 KiB. */
const MAX_BATCH_CHARS = 32 * 1024;

export const msg = Object.freeze({
  /**
   * A resume carries only the token: the server keeps the participant's password check, guest
   * link and device from the first join. A fresh join carries the room password, the guest link's
   * token (`invite`, from the page's `?invite=`) and the public device keys, each if there is one.
   * @param {string} name
   * @param {{resume?: string, password?: string, invite?: string, device?: Device | null}} [options]
   * @returns {ClientMessage}
   */
  join(name, { resume, password, invite, device } = {}) {
    if (resume) return { type: 'join', name, resume };
    return {
      type: 'join',
      name,
      ...(password ? { password } : {}),
      ...(invite ? { invite } : {}),
      ...(device ? { device } : {}),
    };
  },
  /** @param {string} to @param {string} envelope @returns {ClientMessage} */
  keyEnvelope(to, envelope) { return { type: 'key_envelope', to, envelope }; },
  /**
   * Envelopes for several recipients: one `key_envelope`, or `key_envelopes` of at most
   * MAX_ENVELOPES_PER_MESSAGE (and about 32 KB, well within the socket's frame limit) each.
   * @param {{to: string, envelope: string}[]} envelopes @returns {ClientMessage[]}
   */
  keyEnvelopes(envelopes) {
    if (envelopes.length === 1) return [msg.keyEnvelope(envelopes[0].to, envelopes[0].envelope)];
    /** @type {ClientMessage[]} */
    const messages = [];
    /** @type {{to: string, envelope: string}[]} */
    let batch = [];
    let size = 0;
    for (const { to, envelope } of envelopes) {
      const itemSize = to.length + envelope.length + 32;
      if (batch.length && (batch.length === MAX_ENVELOPES_PER_MESSAGE || size + itemSize > MAX_BATCH_CHARS)) {
        messages.push({ type: 'key_envelopes', envelopes: batch });
        batch = [];
        size = 0;
      }
      batch.push({ to, envelope });
      size += itemSize;
    }
    if (batch.length) messages.push({ type: 'key_envelopes', envelopes: batch });
    return messages;
  },
  /** @param {string} to @returns {ClientMessage} */
  keyRequest(to) { return { type: 'key_request', to }; },
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
  /** @param {boolean} allowed @returns {ClientMessage} */
  allowUnencrypted(allowed) { return { type: 'allow_unencrypted', allowed }; },
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

/** @param {unknown} v @returns {Device | null} */
function parseDevice(v) {
  if (!isObject(v) || !isString(v.id) || !isString(v.x25519) || !isString(v.ed25519)) return null;
  return { id: v.id, x25519: v.x25519, ed25519: v.ed25519, e2ee: v.e2ee === true };
}

/** @param {unknown} v @returns {Participant | null} */
function parseParticipant(v) {
  if (!isObject(v) || !isString(v.id) || !isString(v.name)) return null;
  const role = v.role === 'moderator' || v.role === 'member' ? v.role : 'guest';
  return {
    id: v.id, name: v.name, audio: v.audio === true, video: v.video === true, role,
    device: parseDevice(v.device),
  };
}

/** @param {unknown} v @returns {E2eeState} */
function parseE2eeState(v) {
  const o = isObject(v) ? v : {};
  return { encrypted: o.encrypted === true, allow_unencrypted: o.allow_unencrypted === true };
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
        e2ee: parseE2eeState(data.e2ee), e2ee_required: data.e2ee_required === true,
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
    case 'key_envelope':
      if (!isString(data.from) || !isString(data.envelope)) return null;
      return { type: 'key_envelope', from: data.from, envelope: data.envelope };
    case 'key_request':
      return isString(data.from) ? { type: 'key_request', from: data.from } : null;
    case 'e2ee_refused':
      return isString(data.name) ? { type: 'e2ee_refused', name: data.name } : null;
    case 'e2ee_state':
      return { type: 'e2ee_state', ...parseE2eeState(data) };
    case 'meeting_updated':
      return typeof data.locked === 'boolean' ? { type: 'meeting_updated', locked: data.locked } : null;
    default:
      return null;
  }
}
