// What the page says without being asked. Two polite live regions:
// - #status: the page's announcements. Most are for screen readers only (visually hidden: a
//   hand raised, a reaction, what a moderator did, the encryption state); those the user must
//   see as well are shown as a bar (connecting, reconnecting, "A moderator muted you" and the
//   like: `shown`).
// - #roster-live: who joins and leaves, apart so that such news never replaces an announcement.

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** How long a transient announcement stays. */
const TRANSIENT_MS = 6000;

export class Announcer {
  constructor() {
    this.status = byId('status');
    this.roster = byId('roster-live');
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.statusTimer = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.rosterTimer = undefined;
  }

  /**
   * @param {string | null} text null clears
   * @param {{transient?: boolean, shown?: boolean}} [how] transient: clears itself;
   *   shown: visible too, not for screen readers only
   */
  say(text, { transient = false, shown = false } = {}) {
    clearTimeout(this.statusTimer);
    this.status.textContent = text ?? '';
    this.status.classList.toggle('shown', !!text && shown);
    if (text && transient) this.statusTimer = setTimeout(() => this.say(null), TRANSIENT_MS);
  }

  /** Someone joined or left. @param {string} text */
  roll(text) {
    clearTimeout(this.rosterTimer);
    this.roster.textContent = text;
    this.rosterTimer = setTimeout(() => { this.roster.textContent = ''; }, TRANSIENT_MS);
  }

  /** For the test hook: what the bar shows (null: nothing visible). @returns {string | null} */
  visible() {
    return this.status.classList.contains('shown') ? this.status.textContent : null;
  }
}
