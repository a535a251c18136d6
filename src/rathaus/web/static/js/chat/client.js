// The chat client: one WebSocket (/ws/chat) for all of a device's rooms, an MLS group per room
// (js/chat/mls.js), and the device's own record of what it has read (js/chat/group-store.js).
// No DOM. Docs: docs/protocol.md, "Chat".
//
// - The server numbers each room's events without gaps; this device keeps, per room, its group
//   state and the number of the last event it applied, saved together, so that a reload or a
//   reconnect goes on from there (`open` with `after`) without a gap or a double.
// - A device not yet in a room's group joins by an external commit from the group's latest
//   GroupInfo (no other member needs to be online); the first device of a room creates the group.
//   Another commit may win the epoch first: then this device re-reads the group and tries again.
// - MLS deletes a message key once used, so a message cannot be decrypted twice, not even by its
//   sender: the plain text this device sent or read is kept on the device (the group store), and
//   messages from before this device joined are "unreadable on this device".

import * as mls from './mls.js';
import * as thread from './thread.js';
import * as keyPackages from './key-packages.js';
import {b64urlDecode, b64urlEncode, concat, randomBytes} from '../e2ee/encoding.js';
import {clientId, groupPrefix, startsWith} from './ids.js';
import {merge} from './backup.js';

/** @typedef {import('./mls.js').MlsDevice} MlsDevice */
/** @typedef {import('./thread.js').ThreadMessage} ThreadMessage */
/** @typedef {import('./thread.js').ThreadItem} ThreadItem */
/** @typedef {{rel: 'reply' | 'edit' | 'react', ref: number}} Relation */
/** @typedef {import('./mls.js').Group} Group */
/**
 * @typedef {{room: string, seq: number, kind: 'group' | 'commit' | 'message' | 'delete', epoch: number,
 *   user: string | null, device: string, id: string, body: string | null, at: number,
 *   rel?: 'reply' | 'edit' | 'react' | null, ref?: number | null}} WireEvent
 */
/**
 * What a store keeps per room (plain data, for IndexedDB).
 * `earlier`: the room had messages before this device joined (they are not readable here).
 * `gone`: numbers of messages deleted that this device did not hold (no backup brings them back).
 * @typedef {{saved: import('./mls.js').SavedGroup | null, position: number, messages: ThreadMessage[], earlier?: boolean,
 *   gone?: number[]}} RoomRecord
 */
/** @typedef {{get(key: string): Promise<any>, put(key: string, value: any): Promise<void>}} Store */

const PING_EVERY = 20000;
const CLAIM_EVERY = 15000; // ms between looks for members' devices missing from a group
const MAX_ATTEMPTS = 8; // joins of a room's group in a row that another commit may beat
const REQUEST_TIMEOUT = 20000; // ms for the answer to a create, commit, claim or delete
const TYPING_EVERY = 4000; // ms between two "typing" of this member (where the server has them)
const RETRY_AFTER = [500, 1000, 2000, 5000, 10000];
const MAX_KEPT = 5000; // messages kept on the device per room (the newest)
const encoder = new TextEncoder();
const decoder = new TextDecoder();

class RoomChat {
  /** @param {string} slug @param {RoomRecord} record */
  constructor(slug, record) {
    this.slug = slug;
    /** @type {Group | null} */
    this.group = null;
    this.record = record;
    /** @type {Map<string, {content: Record<string, unknown>, relation?: Relation, resolve: (seq: number) => void, reject: (e: Error) => void, staleAt?: bigint, sentAt?: bigint}>} */
    this.outbox = new Map();
    /** @type {Map<string, (event: {seq?: number, claimed?: any, error?: {code: string, message?: string, epoch?: number | null}}) => void>} */
    this.waiting = new Map();
    /** @type {number | undefined} when this device last looked for missing devices */ this.claimedAt = undefined;
    /** @type {number | undefined} the last number this device said the member has read */ this.readUpTo = undefined;
    /** @type {number | undefined} how far the member had read when this page opened the room */ this.readAtOpen = undefined;
    /** @type {number | null} days the room keeps its chat (null: for ever) */
    this.retentionDays = null;
    /** Joins of the group in a row that did not work (another commit came first). */
    this.attempts = 0;
    this.ready = false;
    /** @type {Promise<void>} events of a room are applied one at a time */
    this.queue = Promise.resolve();
  }
}

export class ChatClient extends EventTarget {
  /**
   * @param {{url: string, device: import('../e2ee/device.js').Device, mls: MlsDevice, store: Store,
   *   publishKeyPackages: (packages: string[]) => Promise<boolean>, WebSocketImpl?: typeof WebSocket}} options
   */
  constructor(options) {
    super();
    this.url = options.url;
    this.device = options.device;
    this.mls = options.mls;
    this.store = options.store;
    this.publishKeyPackages = options.publishKeyPackages;
    this.WebSocketImpl = options.WebSocketImpl ?? WebSocket;
    /** @type {Map<string, RoomChat>} */
    this.rooms = new Map();
    /** @type {WebSocket | null} */
    this.socket = null;
    this.connected = false;
    this.attempt = 0;
    this.closed = false;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.pinger = null;
    /** @type {string | null} the signed-in member's user name, once the server said it */
    this.user = null;
    this.typingOn = false; // the server passes "is typing" on (its operator's choice)
    this.typedAt = 0;
  }

  connect() {
    this.closed = false;
    const socket = new this.WebSocketImpl(this.url);
    this.socket = socket;
    socket.onopen = () => socket.send(JSON.stringify({type: 'hello', device: this.device.id}));
    socket.onmessage = (e) => this.#receive(JSON.parse(String(e.data)));
    socket.onclose = () => this.#closed(socket);
    this.pinger ??= setInterval(() => this.#send({type: 'ping'}), PING_EVERY);
  }

  close() {
    this.closed = true;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    this.socket?.close(1000);
  }

  /** @param {WebSocket} socket */
  #closed(socket) {
    if (socket !== this.socket) return;
    this.connected = false;
    for (const room of this.rooms.values()) {
      room.ready = false;
      for (const [id, waiter] of room.waiting) {
        room.waiting.delete(id);
        waiter({error: {code: 'offline'}});
      }
    }
    this.dispatchEvent(new CustomEvent('connection', {detail: {connected: false}}));
    if (this.closed) return;
    const wait = RETRY_AFTER[Math.min(this.attempt++, RETRY_AFTER.length - 1)];
    setTimeout(() => this.connect(), wait);
  }

  /** @param {Record<string, unknown>} message */
  #send(message) {
    if (this.socket?.readyState === 1) this.socket.send(JSON.stringify(message));
  }

  /**
   * Follows a room: its messages from this device's last position on.
   * @param {string} slug
   * @returns {Promise<ThreadMessage[]>} the messages this device holds already
   */
  async open(slug) {
    let room = this.rooms.get(slug);
    if (!room) {
      /** @type {RoomRecord} */
      const record = (await this.store.get(`room:${slug}`)) ?? {saved: null, position: 0, messages: []};
      room = new RoomChat(slug, record);
      if (record.saved) {
        try {
          room.group = mls.loadGroup(this.mls, record.saved);
        } catch {
          room.group = null; // another device's or a broken record: join afresh
        }
      }
      this.rooms.set(slug, room);
    }
    if (this.connected) this.#open(room);
    return room.record.messages;
  }

  /** @param {RoomChat} room */
  #open(room) {
    const after = room.group?.active ? room.record.position : undefined;
    this.#send({type: 'open', room: room.slug, ...(after !== undefined ? {after} : {})});
  }

  /**
   * Sends a message; resolves with its number once the server has stored it.
   * @param {string} slug
   * @param {Record<string, unknown>} content e.g. {t: 'text', body: 'Hallo'}
   * @param {Relation} [relation] a reply to, an edit of or a reaction to message `ref`
   * @returns {Promise<number>}
   */
  send(slug, content, relation) {
    const room = this.rooms.get(slug);
    if (!room) return Promise.reject(new Error('open the room first'));
    return new Promise((resolve, reject) => {
      const id = clientId();
      room.outbox.set(id, {content, relation, resolve, reject});
      if (room.ready) this.#flush(room, id);
    });
  }

  /** The member is typing in room `slug`: the others are told, where the server has it on.
   * @param {string} slug */
  typing(slug) {
    if (!this.typingOn || !this.rooms.get(slug)?.ready || Date.now() - this.typedAt < TYPING_EVERY) return;
    this.typedAt = Date.now();
    this.#send({type: 'typing', room: slug});
  }

  /**
   * Tells the server that the member has read the room this far (their own unread count; the
   * others see it only if the member shares it: their chat preference).
   * @param {string} slug
   */
  markRead(slug) {
    const room = this.rooms.get(slug);
    const last = room?.record.messages.at(-1)?.seq;
    if (!room || last === undefined || last <= (room.readUpTo ?? 0)) return;
    room.readUpTo = last;
    this.#send({type: 'read', room: slug, seq: last});
  }

  /**
   * Deletes message `seq` from the server (its author's, or anyone's for a moderator).
   * @param {string} slug @param {number} seq
   * @returns {Promise<void>}
   */
  async delete(slug, seq) {
    const room = this.rooms.get(slug);
    if (!room) throw new Error('open the room first');
    const answer = await this.#request(room, {type: 'delete', seq});
    if (answer.error) throw Object.assign(new Error(answer.error.message ?? ''), {code: answer.error.code});
  }

  /** @param {RoomChat} room @param {string} id */
  #flush(room, id) {
    const entry = room.outbox.get(id);
    const group = room.group;
    if (!entry || !group) return;
    if (Date.now() - (room.claimedAt ?? 0) > CLAIM_EVERY) this.#completeLater(room);
    room.queue = room.queue.then(async () => {
      entry.sentAt = group.epoch;
      const bytes = await mls.encrypt(group, encoder.encode(JSON.stringify(entry.content)));
      this.#send({type: 'send', room: room.slug, id, message: b64urlEncode(bytes), ...(entry.relation ?? {})});
    }).catch((error) => this.#problem(room, error));
  }

  /** @param {any} message */
  #receive(message) {
    switch (message.type) {
      case 'ready':
        this.user = String(message.user);
        this.typingOn = message.typing === true;
        keyPackages.topUp(this.store, this.mls, Number(message.key_packages) || 0, this.publishKeyPackages)
          .catch((error) => this.dispatchEvent(new CustomEvent('problem', {detail: {room: null, error}})));
        this.connected = true;
        this.attempt = 0;
        this.dispatchEvent(new CustomEvent('connection', {detail: {connected: true}}));
        for (const room of this.rooms.values()) {
          room.attempts = 0;
          this.#open(room);
        }
        break;
      case 'group':
        this.#withRoom(message.room, (room) => this.#group(room, message));
        break;
      case 'events':
        this.#withRoom(message.room, (room) => this.#events(room, message.events));
        break;
      case 'signal': // "typing", or "read" by a member who shares it: for the view only
        if (this.rooms.has(message.room)) this.dispatchEvent(new CustomEvent('signal', {detail: message}));
        break;
      case 'hint':
        this.#withRoom(message.room, (room) => {
          if (room.ready) this.#completeLater(room);
        });
        break;
      case 'claimed': {
        const room = typeof message.room === 'string' ? this.rooms.get(message.room) : undefined;
        const waiter = room?.waiting.get(message.id);
        if (room && waiter) {
          room.waiting.delete(message.id);
          waiter({claimed: message});
        }
        break;
      }
      case 'ack':
      case 'error': {
        // Not queued behind the room's work: that work may be waiting for this very answer.
        const room = typeof message.room === 'string' ? this.rooms.get(message.room) : undefined;
        if (room && message.type === 'ack') this.#ack(room, message.id, message.seq, null);
        else if (room && message.ref) this.#ack(room, message.ref, 0, message);
        else this.dispatchEvent(new CustomEvent('error', {detail: message}));
        break;
      }
      default:
        break; // pong, and what a newer server may say
    }
  }

  /** @param {string} slug @param {(room: RoomChat) => Promise<void> | void} work */
  #withRoom(slug, work) {
    const room = this.rooms.get(slug);
    if (!room) return;
    room.queue = room.queue.then(() => work(room)).catch((error) => this.#problem(room, error));
  }

  /** @param {RoomChat} room @param {unknown} error */
  #problem(room, error) {
    this.dispatchEvent(new CustomEvent('problem', {detail: {room: room.slug, error}}));
  }

  /** @param {RoomChat} room @param {string} id @param {number} seq @param {any} error */
  #ack(room, id, seq, error) {
    const waiter = room.waiting.get(id);
    if (waiter) {
      room.waiting.delete(id);
      waiter(error ? {error} : {seq});
      return;
    }
    const entry = room.outbox.get(id);
    if (!entry) return;
    if (!error) {
      room.outbox.delete(id);
      this.#withRoom(room.slug, () => this.#keepOwn(room, seq, entry.content, entry.relation));
      entry.resolve(seq);
    } else if (error.code === 'epoch_conflict') {
      // A commit came first: it is on its way to this socket; encrypt again once it is applied.
      const sentAt = entry.sentAt ?? 0n;
      if (room.group && room.group.epoch > sentAt) this.#flush(room, id);
      else entry.staleAt = sentAt;
    } else {
      room.outbox.delete(id);
      entry.reject(Object.assign(new Error(error.message), {code: error.code}));
    }
  }

  /**
   * A request whose answer (ack or error) comes back for its client id.
   * @param {RoomChat} room @param {Record<string, unknown>} message
   * @returns {Promise<{seq?: number, claimed?: any, error?: {code: string, message?: string, epoch?: number | null}}>}
   */
  #request(room, message) {
    const id = clientId();
    return new Promise((resolve) => {
      // An answer that never comes (the socket dropped) must not hold the room's queue forever.
      const timer = setTimeout(() => {
        room.waiting.delete(id);
        resolve({error: {code: 'timeout'}});
      }, REQUEST_TIMEOUT);
      room.waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.#send({...message, room: room.slug, id});
    });
  }

  /** @param {RoomChat} room @param {{epoch: number | null, group_info: string | null, last_seq: number,
   *   retention_days?: number | null, read_seq?: number, welcome?: string | null, welcome_seq?: number | null,
   *   read_by?: {user: string, seq: number}[]}} state */
  async #group(room, state) {
    room.retentionDays = state.retention_days ?? null;
    this.dispatchEvent(new CustomEvent('read-by', {detail: {room: room.slug, readers: state.read_by ?? []}}));
    if (room.readAtOpen === undefined) {
      room.readAtOpen = state.read_seq ?? 0;
      this.dispatchEvent(new CustomEvent('read-marker', {detail: {room: room.slug, seq: room.readAtOpen}}));
    }
    if (room.group?.active && state.epoch !== null && room.group.epoch <= BigInt(state.epoch)) {
      room.ready = true; // the events after this device's position follow
      this.#roster(room);
      this.dispatchEvent(new CustomEvent('ready', {detail: {room: room.slug}}));
      this.#completeLater(room);
      for (const id of room.outbox.keys()) this.#flush(room, id);
      return;
    }
    room.group = null;
    if (state.welcome && state.welcome_seq) {
      const welcome = b64urlDecode(state.welcome);
      const group = welcome && await keyPackages.joinByWelcome(this.store, this.mls, welcome);
      if (group && startsWith(group.groupId, groupPrefix(room.slug))) {
        // Added by a member's device: the room from that commit on (nothing of before it).
        if (state.welcome_seq > 2) room.record.earlier = true;
        await this.#adopt(room, group, state.welcome_seq);
        return;
      }
    }
    if (state.group_info === null) {
      const group = await mls.createGroup(this.mls, concat(groupPrefix(room.slug), randomBytes(16)));
      const info = await mls.groupInfo(group);
      const answer = await this.#request(room, {type: 'create_group', group_info: b64urlEncode(info)});
      if (answer.error) return this.#reopen(room);
      await this.#adopt(room, group, /** @type {number} */ (answer.seq));
      return;
    }
    const info = b64urlDecode(state.group_info);
    if (!info) throw new Error('the server sent a broken GroupInfo');
    const joined = await mls.joinExternal(this.mls, info, {resync: true});
    if (!startsWith(joined.group.groupId, groupPrefix(room.slug))) {
      // A server that hands out another room's group would have this device join it: refused.
      throw new Error('the server offered the group of another room');
    }
    const answer = await this.#request(room, {
      type: 'commit', commit: b64urlEncode(joined.commit), group_info: b64urlEncode(joined.groupInfo),
    });
    if (answer.error) return this.#reopen(room); // another commit won the epoch: read it again
    // What the room said before this device came in is not for it (MLS: no keys of the past).
    if (state.last_seq > 1) room.record.earlier = true;
    await this.#adopt(room, joined.group, /** @type {number} */ (answer.seq));
  }

  /** Reads the room's group again, after another commit came first; a few times in a row at
   * most, a little later each time (a refusal that stays is a problem to report, not a loop).
   * @param {RoomChat} room */
  #reopen(room) {
    room.attempts += 1;
    if (room.attempts > MAX_ATTEMPTS) {
      this.#problem(room, new Error('this device cannot join the room\'s group'));
      return;
    }
    setTimeout(() => {
      this.#send({type: 'close', room: room.slug});
      this.#open(room);
    }, 100 * room.attempts * room.attempts);
  }

  /** How many devices can read the room now (the group's leaves). @param {RoomChat} room */
  #roster(room) {
    const devices = room.group?.members().length ?? 0;
    this.dispatchEvent(new CustomEvent('roster', {detail: {room: room.slug, devices}}));
  }

  /** @param {RoomChat} room @param {Group} group @param {number} seq */
  async #adopt(room, group, seq) {
    room.group = group;
    room.attempts = 0;
    this.#roster(room);
    room.record.position = seq;
    await this.#save(room);
    room.ready = true;
    this.dispatchEvent(new CustomEvent('joined', {detail: {room: room.slug, earlier: room.record.earlier === true}}));
    this.dispatchEvent(new CustomEvent('ready', {detail: {room: room.slug}}));
    this.#completeLater(room);
    for (const id of room.outbox.keys()) this.#flush(room, id);
  }

  /**
   * Brings the group in line with the room's members, in the room's queue (after what is queued):
   * the devices of members that are missing are added with their key packages (a welcome each),
   * devices of people who left are removed. One commit at a time; another one winning the epoch
   * makes this wait for the next round. Before a message is sent, at most every CLAIM_EVERY ms.
   * @param {RoomChat} room
   */
  #completeLater(room) {
    room.queue = room.queue.then(() => this.#complete(room)).catch((error) => this.#problem(room, error));
  }

  /** @param {RoomChat} room */
  async #complete(room) {
    const group = room.group;
    if (!group?.active || group.pendingCommit || !room.ready) return;
    room.claimedAt = Date.now();
    const answer = await this.#request(room, {type: 'claim'});
    if (!answer.claimed || room.group !== group || group.pendingCommit) return;
    const members = new Set(group.members().map((m) => m.identity));
    /** @type {string[]} */
    const stale = answer.claimed.stale.filter((/** @type {string} */ id) => members.has(id) && id !== this.device.id);
    if (stale.length) {
      const {commit, groupInfo} = await mls.remove(group, stale);
      const removed = await this.#request(room, {
        type: 'commit', commit: b64urlEncode(commit), group_info: b64urlEncode(groupInfo), removes: stale,
      });
      if (removed.error && removed.error.code !== 'epoch_conflict') await mls.abandon(group);
      return; // the additions wait for the next round, once this commit is applied
    }
    /** @type {{device: string, key_package: string}[]} */
    const wanted = answer.claimed.devices.filter((/** @type {{device: string}} */ d) => !members.has(d.device));
    if (!wanted.length) return;
    const packages = wanted.map((d) => b64urlDecode(d.key_package)).filter((b) => b !== null);
    let made;
    try {
      made = await mls.add(group, /** @type {Uint8Array[]} */ (packages));
    } catch (error) {
      this.#problem(room, error); // e.g. a key package that does not verify: those devices wait
      return;
    }
    const added = await this.#request(room, {
      type: 'commit', commit: b64urlEncode(made.commit), group_info: b64urlEncode(made.groupInfo),
      welcome: b64urlEncode(made.welcome), adds: wanted.map((d) => d.device),
    });
    // Refused for good (a device joined by itself meanwhile): forget it, look again later.
    if (added.error && added.error.code !== 'epoch_conflict') await mls.abandon(group);
  }

  /** @param {RoomChat} room @param {WireEvent[]} events */
  async #events(room, events) {
    /** @type {ThreadMessage[]} */
    const added = [];
    /** @type {Set<ThreadMessage>} */
    const changed = new Set();
    for (const event of events) {
      if (event.seq <= room.record.position && room.group) continue;
      const item = await this.#apply(room, event);
      if (item) this.#take(room, item, added, changed);
      if (room.group) room.record.position = Math.max(room.record.position, event.seq);
    }
    const messages = room.record.messages;
    if (messages.length > MAX_KEPT) messages.splice(0, messages.length - MAX_KEPT);
    await this.#save(room);
    this.#tell(room, added, changed);
    const epoch = room.group?.epoch;
    for (const [id, entry] of room.outbox) {
      if (epoch !== undefined && entry.staleAt !== undefined && entry.staleAt < epoch) {
        delete entry.staleAt;
        this.#flush(room, id);
      }
    }
  }

  /** @param {RoomChat} room @param {ThreadItem} item @param {ThreadMessage[]} added @param {Set<ThreadMessage>} changed */
  #take(room, item, added, changed) {
    if (item.kind === 'delete' && item.ref !== null) room.record.gone = [...(room.record.gone ?? []), item.ref].slice(-MAX_KEPT);
    const result = thread.apply(room.record.messages, item);
    if (result.added) added.push(result.added);
    if (result.changed && !added.includes(result.changed)) changed.add(result.changed);
  }

  /** @param {RoomChat} room @param {ThreadMessage[]} added @param {Set<ThreadMessage>} changed */
  #tell(room, added, changed) {
    if (added.length) this.dispatchEvent(new CustomEvent('messages', {detail: {room: room.slug, messages: added}}));
    if (changed.size) this.dispatchEvent(new CustomEvent('changed', {detail: {room: room.slug, messages: [...changed]}}));
  }

  /** @param {RoomChat} room @param {WireEvent} event @returns {Promise<ThreadItem | null>} */
  async #apply(room, event) {
    const body = event.body === null ? null : b64urlDecode(event.body);
    const group = room.group;
    if (event.kind === 'commit') {
      if (group && body && group.epoch === BigInt(event.epoch)) {
        try {
          await mls.processCommit(group, body);
          this.#roster(room);
        } catch (error) {
          this.#problem(room, error);
        }
      }
      return null;
    }
    /** @type {ThreadItem} */
    const item = {
      seq: event.seq, kind: 'message', user: event.user, device: event.device, at: event.at,
      rel: event.rel ?? null, ref: event.ref ?? null, content: null, problem: null,
    };
    if (event.kind === 'delete') return {...item, kind: 'delete'};
    if (event.kind !== 'message') return null;
    if (event.body === null) return {...item, problem: 'deleted'};
    if (!group || !body) return {...item, problem: 'before-join'};
    if (event.device === this.device.id) return null; // this device's own: kept at its ack
    try {
      const read = await mls.decrypt(group, body);
      if (read.sender.identity !== event.device) throw new Error('the sender is not who the server says');
      const content = JSON.parse(decoder.decode(read.plaintext));
      if (typeof content !== 'object' || content === null) throw new Error('not a message');
      return {...item, content};
    } catch (error) {
      const stale = error instanceof mls.MlsChatError && error.code === 'stale-epoch';
      return {...item, problem: stale ? 'before-join' : 'undecryptable'};
    }
  }

  /** Adds messages of the room's past (a history a member shared, js/chat/backup.js's merge):
   * what this device has stays. @param {string} slug @param {unknown[]} messages @param {string} sharedBy
   * @returns {Promise<number>} */
  addHistory(slug, messages, sharedBy) {
    const room = this.rooms.get(slug);
    if (!room) return Promise.resolve(0);
    const done = room.queue.then(async () => { // in the room's order: not between two events
      const added = merge(room.record, messages, sharedBy);
      if (added.length) await this.#save(room);
      this.#tell(room, added, new Set());
      return added.length;
    });
    room.queue = done.then(() => undefined, () => undefined);
    return done;
  }

  /** A message this device sent, stored by the server as number `seq`.
   * @param {RoomChat} room @param {number} seq @param {Record<string, unknown>} content
   * @param {Relation | undefined} relation */
  async #keepOwn(room, seq, content, relation) {
    /** @type {ThreadMessage[]} */
    const added = [];
    /** @type {Set<ThreadMessage>} */
    const changed = new Set();
    this.#take(room, {
      seq, kind: 'message', user: this.user, device: this.device.id, at: Date.now(),
      rel: relation?.rel ?? null, ref: relation?.ref ?? null, content, problem: null,
    }, added, changed);
    await this.#save(room);
    this.#tell(room, added, changed);
  }

  /** @param {RoomChat} room */
  async #save(room) {
    if (room.retentionDays) {
      // The room keeps its chat this long: this device keeps its copies no longer either.
      const cutoff = Date.now() - room.retentionDays * 24 * 3600 * 1000;
      const first = room.record.messages.findIndex((m) => m.at >= cutoff);
      room.record.messages.splice(0, first === -1 ? room.record.messages.length : first);
    }
    room.record.saved = room.group ? await mls.saveGroup(room.group) : null;
    await this.store.put(`room:${room.slug}`, room.record);
  }
}
