// Keyboard shortcuts in the meeting: M microphone, V camera, H hand, ? this list. Off while
// typing (in a field, a select or editable text) and with Ctrl, Alt or Meta, so that they never
// take a key from the browser, a screen reader or a text being written.

/** @typedef {'mic' | 'camera' | 'hand' | 'help'} ShortcutAction */

/** @type {Record<string, ShortcutAction>} */
export const SHORTCUTS = { m: 'mic', v: 'camera', h: 'hand', '?': 'help' };

/**
 * The action for a key press, or null.
 * @param {{key: string, ctrlKey: boolean, altKey: boolean, metaKey: boolean, repeat: boolean}} event
 * @param {{tagName?: string, isContentEditable?: boolean} | null} target
 * @returns {ShortcutAction | null}
 */
export function shortcutFor(event, target) {
  if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return null;
  const tag = (target?.tagName ?? '').toUpperCase();
  if (['INPUT', 'TEXTAREA', 'SELECT'].includes(tag) || target?.isContentEditable) return null;
  return SHORTCUTS[event.key.toLowerCase()] ?? null;
}

/**
 * Calls ``run`` for each shortcut pressed while ``active()`` (the meeting screen shows, no
 * dialog is open).
 * @param {() => boolean} active @param {(action: ShortcutAction) => void} run
 */
export function installShortcuts(active, run) {
  document.addEventListener('keydown', (event) => {
    if (!active()) return;
    const action = shortcutFor(event, /** @type {HTMLElement | null} */ (event.target));
    if (!action) return;
    event.preventDefault();
    run(action);
  });
}
