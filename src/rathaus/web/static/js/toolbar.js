// The meeting's toolbar: one tab stop whose arrow keys move between the buttons (the ARIA toolbar
// pattern), and one row always: where the buttons' labels do not fit beside each other (a phone,
// a narrow window, a long German label), they show their icons only (`compact`; the labels stay
// for screen readers and name the buttons).

export class Toolbar {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    this.root.addEventListener('keydown', (e) => {
      const list = this.buttons();
      const index = list.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
      if (index < 0) return;
      /** @type {Record<string, number>} */
      const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: list.length - 1 };
      if (e.key in moves) {
        e.preventDefault();
        this.focusAt(moves[e.key]);
      }
    });
    this.root.addEventListener('focusin', (e) => {
      for (const b of this.buttons()) b.tabIndex = b === e.target ? 0 : -1;
    });
    this.buttons().forEach((b, i) => { b.tabIndex = i === 0 ? 0 : -1; });
    this.width = 0;
    this.fitting = false;
    // On a change of width only: fitting changes the height, which must not call it again.
    new ResizeObserver((entries) => {
      const width = entries[0]?.contentRect.width ?? 0;
      if (width !== this.width) {
        this.width = width;
        this.fit();
      }
    }).observe(root);
  }

  /** @returns {HTMLButtonElement[]} */
  buttons() {
    return /** @type {HTMLButtonElement[]} */ (Array.from(this.root.querySelectorAll('button')))
      .filter((b) => !b.hidden && !b.disabled);
  }

  /** @param {number} index */
  focusAt(index) {
    const list = this.buttons();
    if (!list.length) return;
    const target = list[(index + list.length) % list.length];
    for (const b of list) b.tabIndex = b === target ? 0 : -1;
    target.focus();
  }

  /** Keeps exactly one usable button in the tab order; fits the labels again before the next
   * frame (once, however many buttons changed: measuring forces the browser to lay the page out,
   * which in the middle of joining costs tens of milliseconds each time). */
  fixTabStop() {
    const list = this.buttons();
    if (!list.some((b) => b.tabIndex === 0) && list[0]) list[0].tabIndex = 0;
    if (this.fitting) return;
    this.fitting = true;
    requestAnimationFrame(() => {
      this.fitting = false;
      this.fit();
    });
  }

  /** Labels only where they fit in one row (measured with them, then decided); a tooltip
   * where a button shows its icon only. */
  fit() {
    if (!this.root.offsetParent) return; // not shown: measured when it is
    this.root.classList.remove('compact');
    const overflows = this.root.scrollWidth > this.root.clientWidth + 1;
    this.root.classList.toggle('compact', overflows);
    for (const label of Array.from(this.root.querySelectorAll('button > .label'))) {
      const button = /** @type {HTMLElement} */ (label.parentElement);
      if (label.getBoundingClientRect().width > 1) button.removeAttribute('title');
      else button.title = label.textContent ?? '';
    }
  }
}
