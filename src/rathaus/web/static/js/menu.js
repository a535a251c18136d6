// A button that opens a popup of buttons (a disclosure, not an ARIA menu: its entries stay plain
// buttons, some of them toggles): the toolbar's "More", and the moderator's "More actions for …"
// on a tile or in the participant list. Opening focuses the first entry; the arrow keys, Home
// and End move; Escape closes and gives the focus back; so does leaving it (focus or a click
// elsewhere).

/** @typedef {import('./tile.js').TileAction} TileAction */

/** @type {Set<PopupMenu>} the open ones, for the one document-wide click listener */
const open = new Set();

document.addEventListener('pointerdown', (e) => {
  const target = /** @type {Node} */ (e.target);
  for (const menu of [...open]) {
    if (!menu.popup.contains(target) && !menu.button.contains(target)) menu.close(false);
  }
});

export class PopupMenu {
  /**
   * @param {HTMLButtonElement} button @param {HTMLElement} popup
   * @param {{fill?: () => void, place?: () => void, onClose?: () => void}} [hooks] fill: renews
   *   the entries before opening; place: positions the popup once shown
   */
  constructor(button, popup, hooks = {}) {
    this.button = button;
    this.popup = popup;
    this.hooks = hooks;
    button.setAttribute('aria-expanded', 'false');
    button.addEventListener('click', () => (this.isOpen ? this.close(true) : this.open()));
    popup.addEventListener('keydown', (e) => this.onKey(e));
    // A click on the popup's padding keeps the focus in it.
    popup.tabIndex = -1;
    popup.addEventListener('focusout', () => {
      // Where the focus went is known only afterwards when it left the page (Tab at the end).
      setTimeout(() => {
        const now = document.activeElement;
        if (!popup.contains(now) && now !== button) this.close(false);
      });
    });
  }

  get isOpen() {
    return !this.popup.hidden;
  }

  /** The entries one can use now. @returns {HTMLButtonElement[]} */
  entries() {
    return /** @type {HTMLButtonElement[]} */ (Array.from(this.popup.querySelectorAll('button')))
      .filter((b) => !b.hidden && !b.disabled);
  }

  open() {
    this.hooks.fill?.();
    this.popup.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    open.add(this);
    this.hooks.place?.();
    this.entries()[0]?.focus();
  }

  /** @param {boolean} refocus give the focus back to the button */
  close(refocus) {
    if (!this.isOpen) return;
    this.popup.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    open.delete(this);
    this.hooks.onClose?.();
    if (refocus) this.button.focus();
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation(); // not the panel or dialog around it too
      this.close(true);
      return;
    }
    const list = this.entries();
    const index = list.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    /** @type {Record<string, number>} */
    const moves = {
      ArrowDown: index + 1, ArrowRight: index + 1, ArrowUp: index - 1, ArrowLeft: index - 1,
      Home: 0, End: list.length - 1,
    };
    if (index >= 0 && e.key in moves) {
      e.preventDefault();
      list[(moves[e.key] + list.length) % list.length].focus();
    }
  }
}

/**
 * The moderator's actions on one participant ("More actions for Anna"): a button and a popup,
 * filled from ``actions()`` each time it opens. Append ``el`` where it belongs.
 */
export class ActionMenu {
  /** @param {string} id the popup's element id @param {() => TileAction[]} actions */
  constructor(id, actions) {
    this.actions = actions;
    this.el = document.createElement('div');
    this.el.className = 'tile-actions';
    this.button = document.createElement('button');
    this.button.type = 'button';
    this.button.className = 'more';
    this.button.setAttribute('aria-controls', id);
    const icon = document.createElement('span');
    icon.className = 'icon icon-more';
    icon.setAttribute('aria-hidden', 'true');
    this.button.append(icon);
    this.popup = document.createElement('div');
    this.popup.id = id;
    this.popup.className = 'tile-menu';
    this.popup.hidden = true;
    this.el.append(this.button, this.popup);
    /** @type {(open: boolean) => void} */
    this.onToggle = () => {};
    this.menu = new PopupMenu(this.button, this.popup, {
      fill: () => {
        this.fill();
        this.onToggle(true);
      },
      onClose: () => this.onToggle(false),
    });
  }

  /** @param {string} label "More actions for <name>" */
  setLabel(label) {
    this.button.setAttribute('aria-label', label);
    this.button.title = label;
  }

  fill() {
    this.popup.replaceChildren();
    for (const action of this.actions()) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = action.label;
      if (action.danger) button.className = 'danger';
      button.addEventListener('click', () => {
        this.menu.close(true);
        action.run();
      });
      this.popup.append(button);
    }
  }

  /** @param {boolean} refocus */
  close(refocus) {
    this.menu.close(refocus);
  }

  remove() {
    this.menu.close(false);
    this.el.remove();
  }
}
