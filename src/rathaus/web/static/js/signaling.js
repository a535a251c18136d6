// The signaling connection (docs/protocol.md): one WebSocket with keepalive, resume and
// reconnect. No DOM access in this module; WebSocket and timers only.

import { PING_INTERVAL_MS, SILENCE_TIMEOUT_MS, msg, parseServerMessage } from './protocol.js';

/** @typedef {import('./protocol.js').LobbyStatus} LobbyStatus */
/** @typedef {import('./protocol.js').ServerMessageType} ServerMessageType */
/** @typedef {import('./protocol.js').ServerMessage} ServerMessage */
/** @typedef {import('./protocol.js').ClientMessage} ClientMessage */


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
   * @param {{password?: string, invite?: string, device?: import('./protocol.js').Device | null}} [join]
   *   the room password, the guest link's token and this browser's public device keys (E2EE),
   *   each if there is one
   */
  constructor(url, name, { password, invite, device = null } = {}) {
    super();
    this.url = url;
    this.name = name;
    this.password = password || undefined;
    this.invite = invite || undefined;
    this.device = device;
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
      this.rawSend(this.joinMessage(this.resumeToken ?? undefined));
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

  /** @param {string} [resume] @returns {ClientMessage} */
  joinMessage(resume) {
    const { password, invite, device } = this;
    return msg.join(this.name, { resume, password, invite, device });
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
        this.rawSend(this.joinMessage());
        return;
      }
      if (message.ref === 'join' && this.status !== 'joined' && message.code !== 'already_joined') {
        this.dispatchEvent(new CustomEvent('error', { detail: message }));
        this.close(message.code);
        return;
      }
    } else if (message.type === 'bye') {
      this.dispatchEvent(new CustomEvent('bye', { detail: message }));
      if (message.reason !== 'shutdown') {
        this.close(`bye_${message.reason}`);
      } else {
        // shutdown: the participant is gone; come back as a fresh participant once
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
