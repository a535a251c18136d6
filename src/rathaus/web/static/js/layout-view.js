// Applies layout.js to the meeting page: puts the one in focus on the stage in speaker view,
// pages the grid (or the strip beside the stage), hides the tiles of other pages, and tells
// media.js through `onVideoWanted` which feeds' video to receive — the one place that decides
// it. The layout is remembered in this browser; pins and pages last one meeting.

import { arrange, hasStage, pageSize, wantsVideo } from './layout.js';
import { Pager } from './pager.js';

/** @typedef {import('./tile.js').Tile} Tile */
/** @typedef {import('./layout.js').LayoutMode} LayoutMode */
/** @typedef {import('./layout.js').SavingMode} SavingMode */
/** @typedef {import('./layout.js').Arrangement} Arrangement */

const LAYOUT_KEY = 'rathaus.layout';
/** Where the grid holds four to a page (the phone rules of the stylesheets). */
const NARROW = '(max-width: 37.5rem), (max-height: 30rem)';

/** @returns {LayoutMode} */
function storedMode() {
  try {
    return localStorage.getItem(LAYOUT_KEY) === 'speaker' ? 'speaker' : 'grid';
  } catch {
    return 'grid';
  }
}

/**
 * @typedef {{
 *   root: HTMLElement, stage: HTMLElement, stageTiles: HTMLElement, videos: HTMLElement,
 *   grid: HTMLElement, area: HTMLElement, tiles: Map<string, Tile>, screens: Map<string, Tile>,
 *   selfId: () => string | null,
 * }} LayoutParts
 */

export class LayoutView {
  /** @param {LayoutParts} parts */
  constructor(parts) {
    this.parts = parts;
    /** @type {LayoutMode} */
    this.mode = storedMode();
    /** @type {SavingMode} */
    this.saving = 'off';
    /** @type {string | null} */
    this.pinned = null;
    /** @type {string | null} the other participant heard last */
    this.speaker = null;
    this.page = 0;
    /** @type {Arrangement | null} */
    this.current = null;
    /** @type {(feedId: string, on: boolean) => void} */
    this.onVideoWanted = () => {};
    /** @type {() => void} the mode or a pin changed (More shows it) */
    this.onChange = () => {};
    /** @type {(text: string) => void} a page turned by the user */
    this.onPage = () => {};
    this.pager = new Pager((step) => this.turn(step));
    this.narrow = matchMedia(NARROW);
    this.narrow.addEventListener('change', () => this.apply());
    this.width = 0;
    // On a change of width only: placing the tiles changes heights, which must not loop.
    new ResizeObserver((entries) => {
      const width = Math.round(entries[0]?.contentRect.width ?? 0);
      if (width !== this.width) {
        this.width = width;
        this.apply();
      }
    }).observe(parts.area);
  }

  /** @param {LayoutMode} mode */
  setMode(mode) {
    this.mode = mode;
    try {
      localStorage.setItem(LAYOUT_KEY, mode);
    } catch {
      // storage disabled: the choice lasts for this page
    }
    this.apply();
    this.onChange();
  }

  /** Pins someone for oneself (null unpins); pinning switches to speaker view.
   * @param {string | null} id */
  pin(id) {
    this.pinned = id;
    if (id !== null && this.mode !== 'speaker') this.setMode('speaker');
    this.apply();
    this.onChange();
  }

  /** @param {SavingMode} saving */
  setSaving(saving) {
    this.saving = saving;
    this.apply();
  }

  /** @param {string} id @param {boolean} talking */
  heard(id, talking) {
    if (!talking || id === this.parts.selfId() || id === this.speaker) return;
    this.speaker = id;
    this.apply();
  }

  /** Someone left. @param {string} id */
  forget(id) {
    if (this.pinned === id) {
      this.pinned = null;
      this.onChange();
    }
    if (this.speaker === id) this.speaker = null;
    this.apply();
  }

  /** A new meeting: no pins, the first page. */
  reset() {
    this.pinned = null;
    this.speaker = null;
    this.page = 0;
    this.apply();
  }

  /** @param {number} step */
  turn(step) {
    this.page += step;
    this.apply();
    const now = this.current;
    if (now) this.onPage(this.pager.label(now.page, now.pages));
  }

  /** The camera tiles in their order: oneself first, then as they came. @returns {string[]} */
  order() {
    const self = this.parts.selfId();
    const ids = [...this.parts.tiles.keys()];
    return self !== null && ids.includes(self) ? [self, ...ids.filter((id) => id !== self)] : ids;
  }

  apply() {
    const { root, stage, stageTiles, videos, grid, tiles, screens } = this.parts;
    const scene = {
      order: this.order(), self: this.parts.selfId(), screens: screens.size,
      mode: this.mode, pinned: this.pinned, speaker: this.speaker,
    };
    const strip = hasStage(scene);
    const now = arrange(scene, this.page, pageSize(strip, this.width, this.narrow.matches));
    this.page = now.page;
    this.current = now;
    // Moving an element drops the focus inside it: give it back.
    const focused = /** @type {HTMLElement | null} */ (document.activeElement);
    for (const id of now.stage) {
      const el = tiles.get(id)?.el;
      if (el && el.parentElement !== stageTiles) stageTiles.append(el);
    }
    const inGrid = [...now.shown, ...scene.order.filter((id) => !now.shown.includes(id) && !now.stage.includes(id))];
    const els = inGrid.flatMap((id) => tiles.get(id)?.el ?? []);
    if (els.some((el, i) => grid.children[i] !== el)) grid.append(...els);
    if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();

    for (const [id, tile] of tiles) {
      const shown = now.stage.includes(id) || now.shown.includes(id);
      tile.el.hidden = !shown;
      tile.setPinned(id === this.pinned);
      this.wantVideo(tile, wantsVideo({ participant: id, kind: 'camera', shown }, this.saving, now.focus));
    }
    for (const tile of screens.values()) {
      this.wantVideo(tile, wantsVideo({ participant: tile.participantId, kind: 'screen', shown: true }, this.saving, now.focus));
    }
    stage.hidden = !strip;
    root.classList.toggle('has-stage', strip);
    videos.hidden = strip && now.shown.length === 0;
    const n = now.shown.length;
    grid.dataset.count = n <= 1 ? '1' : n === 2 ? '2' : n <= 4 ? '4' : '9';
    grid.style.setProperty('--strip', String(Math.max(1, n)));
    this.pager.show(now.page, now.pages);
  }

  /** @param {Tile} tile @param {boolean} on */
  wantVideo(tile, on) {
    if (tile.self) return;
    tile.setPaused(!on);
    if (tile.feedId) this.onVideoWanted(tile.feedId, on);
  }

  /** Read-only view for the test hook. */
  snapshot() {
    const now = this.current;
    return {
      mode: this.mode, saving: this.saving, pinned: this.pinned, speaker: this.speaker,
      focus: now?.focus ?? null, stage: now?.stage ?? [], shown: now?.shown ?? [],
      page: (now?.page ?? 0) + 1, pages: now?.pages ?? 1,
    };
  }
}
