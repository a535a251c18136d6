// Where the meeting shows whom: the grid, or speaker view (one large tile on the stage, the others
// in a strip); a shared screen takes the stage in either. Tiles beyond one page of the grid or
// the strip are paged, and a tile not shown (or not wanted in a low-bandwidth mode) gets no video.
// Pure rules, no DOM (tests/js/layout.test.mjs); layout-view.js applies them to the page.

/** @typedef {'grid' | 'speaker'} LayoutMode */
/** @typedef {'off' | 'audio' | 'speaker'} SavingMode what low-bandwidth mode leaves out */

/** Tiles on one page of the grid: 3×3 on a desktop, 2×2 on a phone. */
export const GRID_PAGE = Object.freeze({ wide: 9, narrow: 4 });
/** The strip: as many tiles of at least this width (CSS px, with the gap) as fit, at most STRIP_MAX. */
const STRIP_TILE_PX = 168;
const STRIP_MAX = 6;

/**
 * @typedef {object} Scene
 * @property {string[]} order     the camera tiles' participants, oneself first, then as they came
 * @property {string | null} self
 * @property {number} screens     shared screens shown (they take the stage)
 * @property {LayoutMode} mode
 * @property {string | null} pinned   pinned by this user (never oneself)
 * @property {string | null} speaker  the other participant heard last
 */

/**
 * Whom speaker view shows large: the pinned one, else the one heard last, else the first of the
 * others, else oneself. @param {Scene} scene @returns {string | null}
 */
export function focusOf(scene) {
  const present = (/** @type {string | null} */ id) => id !== null && scene.order.includes(id);
  if (present(scene.pinned)) return scene.pinned;
  if (present(scene.speaker)) return scene.speaker;
  return scene.order.find((id) => id !== scene.self) ?? scene.order[0] ?? null;
}

/** Whether the tiles stand in a strip beside a stage (a screen, or speaker view). @param {Scene} scene */
export function hasStage(scene) {
  return scene.screens > 0 || (scene.mode === 'speaker' && scene.order.length > 0);
}

/**
 * How many tiles one page holds. @param {boolean} strip beside the stage
 * @param {number} width the videos' width in CSS px @param {boolean} narrow a phone
 * @returns {number}
 */
export function pageSize(strip, width, narrow) {
  if (!strip) return narrow ? GRID_PAGE.narrow : GRID_PAGE.wide;
  return Math.max(1, Math.min(STRIP_MAX, Math.floor(width / STRIP_TILE_PX)));
}

/**
 * @typedef {object} Arrangement
 * @property {string[]} stage  camera tiles on the stage (speaker view without a shared screen)
 * @property {string[]} shown  the tiles of the grid or strip on this page, in order
 * @property {boolean} strip
 * @property {number} page     0-based, within 0 … pages - 1
 * @property {number} pages
 * @property {string | null} focus
 */

/** @param {Scene} scene @param {number} page asked for @param {number} size of a page @returns {Arrangement} */
export function arrange(scene, page, size) {
  const focus = focusOf(scene);
  const strip = hasStage(scene);
  const stage = strip && scene.screens === 0 && focus !== null ? [focus] : [];
  let rest = scene.order.filter((id) => !stage.includes(id));
  // Beside a shared screen the pinned one leads the strip.
  const pinned = scene.pinned;
  if (pinned !== null && rest.includes(pinned)) rest = [pinned, ...rest.filter((id) => id !== pinned)];
  const per = Math.max(1, size);
  const pages = Math.max(1, Math.ceil(rest.length / per));
  const at = Math.min(Math.max(0, page), pages - 1);
  return { stage, shown: rest.slice(at * per, (at + 1) * per), strip, page: at, pages, focus };
}

/**
 * Whether to receive a feed's video: only for a tile shown, none in "audio only", and in "only
 * the speaker's video" only the one in focus and shared screens.
 * @param {{participant: string, kind: 'camera' | 'screen', shown: boolean}} feed
 * @param {SavingMode} saving @param {string | null} focus
 * @returns {boolean}
 */
export function wantsVideo(feed, saving, focus) {
  if (!feed.shown || saving === 'audio') return false;
  if (saving === 'speaker') return feed.kind === 'screen' || feed.participant === focus;
  return true;
}
