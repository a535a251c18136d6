// The meeting screen: the tile grid, the screen-share stage, the notice line, the toolbar with
// its "More" popup, and the participants panel beside the videos (people.js). It renders what
// app.js tells it and reports the user's actions through callbacks; where the tiles go (grid,
// speaker view, pages) is layout-view.js's.

import { Tile } from './tile.js';
import { Toolbar } from './toolbar.js';
import { MoreMenu } from './more.js';
import { PeoplePanel } from './people.js';
import { PresenterBar } from './presenter.js';
import { LayoutView } from './layout-view.js';
import { distinctNames } from './names.js';
import { t } from './i18n.js';

/** @typedef {import('./tile.js').TileAction} TileAction */
/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./protocol.js').Feed} Feed */
/** @typedef {'mic' | 'camera' | 'screen'} ToggleName */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

export class MeetingView {
  constructor() {
    this.root = byId('meeting');
    this.grid = byId('grid');
    this.stage = byId('stage');
    this.stageTiles = byId('stage-tiles');
    this.videos = byId('videos');
    this.notice = byId('notice');
    this.toolbar = new Toolbar(byId('toolbar'));
    this.more = new MoreMenu(this.root);
    this.people = new PeoplePanel();
    this.presenter = new PresenterBar();
    /** @type {Record<ToggleName, HTMLButtonElement>} */
    this.buttons = {
      mic: /** @type {HTMLButtonElement} */ (byId('mic-button')),
      camera: /** @type {HTMLButtonElement} */ (byId('camera-button')),
      screen: /** @type {HTMLButtonElement} */ (byId('screen-button')),
    };
    this.leaveButton = /** @type {HTMLButtonElement} */ (byId('leave-button'));
    this.lockedIndicator = byId('locked-indicator');
    /** moderators' entries in "More" */
    this.modButtons = {
      muteAll: /** @type {HTMLButtonElement} */ (byId('mute-all-button')),
      lock: /** @type {HTMLButtonElement} */ (byId('lock-button')),
      allowPlain: /** @type {HTMLButtonElement} */ (byId('allow-plain-button')),
      end: /** @type {HTMLButtonElement} */ (byId('end-button')),
    };
    this.moderator = false;
    this.locked = false;
    /** the meeting requires end-to-end encryption (only then may moderators allow exceptions) */
    this.e2eeRequired = false;
    this.allowPlain = false;
    /** The moderator actions on a remote participant (used while moderating).
     * @type {(participantId: string) => TileAction[]} */
    this.actionsFor = () => [];
    /** @type {Map<string, Tile>} camera tiles by participant id (own tile included) */
    this.tiles = new Map();
    /** @type {Map<string, Tile>} screen tiles by feed id */
    this.screens = new Map();
    /** @type {string | null} */
    this.selfId = null;
    /** @type {(feedId: string, width: number) => void} */
    this.onTileWidth = () => {};
    this.layout = new LayoutView({
      root: this.root, stage: this.stage, stageTiles: this.stageTiles, videos: this.videos,
      grid: this.grid, area: byId('meeting-main'), tiles: this.tiles, screens: this.screens,
      selfId: () => this.selfId,
    });
    /** @type {WeakMap<Element, Tile>} */
    this.tileOf = new WeakMap();
    this.resizer = new ResizeObserver((entries) => {
      for (const entry of entries) {
        const tile = this.tileOf.get(entry.target);
        if (tile && tile.feedId) this.onTileWidth(tile.feedId, entry.contentRect.width);
      }
    });
    this.people.actionsOf = (id) => (id !== this.selfId ? () => this.tileActions(id) : null);
  }

  /** What one may do with another participant: pin them, and moderate. @param {string} id
   * @returns {TileAction[]} */
  tileActions(id) {
    const pinned = this.layout.pinned === id;
    const pin = { label: t(pinned ? 'layout.unpin' : 'layout.pin'), run: () => this.layout.pin(pinned ? null : id) };
    return [pin, ...(this.moderator ? this.actionsFor(id) : [])];
  }

  /** @param {(name: ToggleName, pressed: boolean) => void} handler */
  onToggle(handler) {
    for (const [name, button] of Object.entries(this.buttons)) {
      button.addEventListener('click', () => {
        handler(/** @type {ToggleName} */ (name), button.getAttribute('aria-pressed') !== 'true');
      });
    }
    this.presenter.onStop = () => handler('screen', false);
  }

  /** @param {() => void} handler */
  onLeave(handler) {
    this.leaveButton.addEventListener('click', handler);
  }

  /** Shows or hides what only moderators may do. @param {boolean} on */
  setModerator(on) {
    if (on === this.moderator) return;
    this.moderator = on;
    this.more.setModerator(on, this.e2eeRequired);
    for (const tile of this.tiles.values()) this.updateActions(tile);
    this.people.updateActions();
  }

  /** @param {Tile} tile */
  updateActions(tile) {
    const id = tile.participantId;
    tile.setActions(tile.self ? null : () => this.tileActions(id));
  }

  /** @param {boolean} locked */
  setLocked(locked) {
    this.locked = locked;
    this.lockedIndicator.hidden = !locked;
    this.modButtons.lock.setAttribute('aria-pressed', String(locked));
  }

  /**
   * The moderators' switch "Allow participants without encryption", shown in meetings that
   * require end-to-end encryption only.
   * @param {boolean} required @param {boolean} allowed
   */
  setAllowPlain(required, allowed) {
    this.e2eeRequired = required;
    this.allowPlain = allowed;
    this.more.setModerator(this.moderator, required);
    this.modButtons.allowPlain.setAttribute('aria-pressed', String(allowed));
  }

  /** @param {ToggleName} name @param {boolean} pressed @param {boolean} [enabled] */
  setToggle(name, pressed, enabled = true) {
    const button = this.buttons[name];
    button.setAttribute('aria-pressed', String(pressed));
    button.disabled = !enabled;
    this.toolbar.fixTabStop();
  }

  /** @param {ToggleName} name @param {boolean} visible */
  showToggle(name, visible) {
    this.buttons[name].hidden = !visible;
    this.toolbar.fixTabStop();
  }

  /** @param {string | null} text */
  setNotice(text) {
    this.notice.textContent = text ?? '';
    this.notice.hidden = !text;
  }

  // -- participants --------------------------------------------------------------------------------

  /** Clears everything (before a fresh join). */
  reset() {
    for (const tile of [...this.tiles.values(), ...this.screens.values()]) this.dropTile(tile);
    this.tiles.clear();
    this.setModerator(false);
    this.setLocked(false);
    this.screens.clear();
    this.layout.reset();
    this.setNotice(null);
    this.people.clear();
    this.more.close();
    this.presenter.show(null);
  }

  /** @param {Participant} self @param {MediaStream | null} stream */
  setSelf(self, stream) {
    if (this.selfId && this.selfId !== self.id) {
      const old = this.tiles.get(this.selfId);
      if (old) this.dropTile(old);
      this.tiles.delete(this.selfId);
      this.people.remove(this.selfId);
    }
    this.selfId = self.id;
    const tile = this.upsert(self, true); // (the layout puts it first)
    tile.setStream(stream);
  }

  /** @param {Participant} p @param {boolean} [self] @returns {Tile} */
  upsert(p, self = false) {
    let tile = this.tiles.get(p.id);
    if (!tile) {
      tile = new Tile({ participantId: p.id, name: p.name, self });
      this.tiles.set(p.id, tile);
      this.tileOf.set(tile.el, tile);
      this.grid.append(tile.el);
      this.resizer.observe(tile.el);
      this.updateActions(tile);
    }
    const plain = this.e2eeRequired && !p.device?.e2ee;
    tile.name = p.name;
    tile.setModerator(p.role === 'moderator');
    tile.setPlain(plain);
    this.people.upsert(p, self, plain);
    tile.setAudioOn(p.audio);
    tile.setVideoOn(p.video);
    this.relabel();
    this.layout.apply();
    return tile;
  }

  /** Names as shown: two of the same get a mark ("Anna (2)"), in the order they came. */
  relabel() {
    const labels = distinctNames([...this.tiles.values()].map((tile) => ({ id: tile.participantId, name: tile.name })));
    for (const [id, tile] of this.tiles) {
      const label = labels.get(id) ?? tile.name;
      tile.setName(tile.name, label);
      this.people.setLabel(id, label);
    }
    for (const screen of this.screens.values()) {
      const owner = this.tiles.get(screen.participantId);
      if (owner) screen.setName(owner.name, owner.label);
    }
  }

  /** @param {string} id */
  removeParticipant(id) {
    const tile = this.tiles.get(id);
    if (tile) this.dropTile(tile);
    this.tiles.delete(id);
    this.people.remove(id);
    for (const [feedId, screen] of [...this.screens]) {
      if (screen.participantId === id) this.detachFeed(feedId);
    }
    this.relabel();
    this.layout.forget(id);
  }

  /** @param {string} id @param {boolean} talking */
  setTalking(id, talking) {
    this.tiles.get(id)?.setTalking(talking);
    this.layout.heard(id, talking);
  }

  // -- feeds -------------------------------------------------------------------------------------

  /** @param {Feed} feed @param {MediaStream} stream */
  attachFeed(feed, stream) {
    if (feed.kind === 'camera') {
      const tile = this.tiles.get(feed.participant);
      if (!tile) return;
      const known = tile.feedId === feed.id;
      tile.setStream(stream, feed.id);
      if (!known) this.layout.apply();
      this.onTileWidth(feed.id, tile.el.getBoundingClientRect().width);
      return;
    }
    let tile = this.screens.get(feed.id);
    if (!tile) {
      const owner = this.tiles.get(feed.participant);
      tile = new Tile({ participantId: feed.participant, name: owner ? owner.name : '', kind: 'screen' });
      if (owner) tile.setName(owner.name, owner.label);
      this.screens.set(feed.id, tile);
      this.stageTiles.append(tile.el);
      tile.setStream(stream, feed.id);
      this.layout.apply();
      return;
    }
    tile.setStream(stream, feed.id);
  }

  /** @param {string} feedId */
  detachFeed(feedId) {
    const screen = this.screens.get(feedId);
    if (screen) {
      this.dropTile(screen);
      this.screens.delete(feedId);
      this.layout.apply();
      return;
    }
    for (const tile of this.tiles.values()) {
      if (tile.feedId === feedId) tile.setStream(null);
    }
  }

  // -- layout helpers ------------------------------------------------------------------------------

  /** @param {Tile} tile */
  dropTile(tile) {
    this.resizer.unobserve(tile.el);
    tile.remove();
  }

  /** Read-only view for the test hook. */
  snapshot() {
    return {
      tiles: [...this.tiles.values()].map((tile) => ({
        participant: tile.participantId, name: tile.name, label: tile.label, feed: tile.feedId,
        talking: tile.el.classList.contains('talking'), shown: !tile.el.hidden,
        stage: tile.el.parentElement === this.stageTiles, paused: tile.paused,
      })),
      layout: this.layout.snapshot(),
      screens: [...this.screens.keys()],
      notice: this.notice.hidden ? null : this.notice.textContent,
      moderator: this.moderator,
      locked: this.locked,
      people: this.people.snapshot(),
      presenting: this.presenter.snapshot().sharing,
    };
  }
}
