// "Backup of your chat history" on the home page: download this device's readable messages as a
// file sealed with a passphrase, and import such a file on a new device (js/chat/backup.js).

import { t } from '../i18n.js';
import { byId } from '../dom.js';
import { BackupError, MIN_PASSPHRASE, exportBackup, importBackup } from './backup.js';
import { defaultGroupStore } from './group-store.js';
import { ifDeviceFree } from './tab-lock.js';

const MAX_FILE = 512 * 1024 * 1024; // no backup of 5,000 messages per room comes near it

/** @type {Record<string, import('../i18n.js').MessageKey>} */
const PROBLEMS = { passphrase: 'backup.wrongPassphrase', 'not-a-backup': 'backup.notABackup', 'other-user': 'backup.otherUser' };

/** @param {string} user the signed-in member's user name
 * @param {Promise<unknown>} prepared this page's own work on the device (it holds the device meanwhile) */
export function installBackup(user, prepared) {
  const status = byId('backup-status');
  const say = (/** @type {string} */ text) => { status.textContent = text; };
  /** @param {HTMLFormElement} form @param {() => Promise<void>} work */
  const busyWhile = async (form, work) => {
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button'));
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true'); // still focusable: the focus stays here
    say(t('backup.working'));
    try {
      await work();
    } catch (error) {
      const code = error instanceof BackupError ? PROBLEMS[error.code] : undefined;
      say(code ? t(code) : t('backup.failed'));
      if (!code) console.warn('rathaus: backup:', error);
    } finally {
      button.removeAttribute('aria-disabled');
    }
  };

  const exportForm = /** @type {HTMLFormElement} */ (byId('backup-export-form'));
  exportForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const passphrase = /** @type {HTMLInputElement} */ (byId('backup-passphrase')).value;
    const repeat = /** @type {HTMLInputElement} */ (byId('backup-repeat')).value;
    if (passphrase.length < MIN_PASSPHRASE) return say(t('backup.tooShort'));
    if (passphrase !== repeat) return say(t('backup.mismatch'));
    busyWhile(exportForm, async () => {
      const made = await exportBackup(defaultGroupStore(), passphrase, user);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([made.bytes], { type: 'application/octet-stream' }));
      link.download = `rathaus-chat-${new Date().toISOString().slice(0, 10)}.rcb`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60000);
      exportForm.reset();
      say(t('backup.exported', { messages: made.messages, rooms: made.rooms }));
    });
  });

  const importForm = /** @type {HTMLFormElement} */ (byId('backup-import-form'));
  importForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const file = /** @type {HTMLInputElement} */ (byId('backup-file')).files?.[0];
    const passphrase = /** @type {HTMLInputElement} */ (byId('backup-import-passphrase')).value;
    if (!file) return say(t('backup.noFile'));
    if (file.size > MAX_FILE) return say(t('backup.notABackup'));
    busyWhile(importForm, async () => {
      await prepared.catch(() => undefined); // this page's own device work first
      const bytes = new Uint8Array(await file.arrayBuffer());
      // Written into the device's rooms: not while another tab runs the chat on them.
      const done = await ifDeviceFree(() => importBackup(defaultGroupStore(), bytes, passphrase, user));
      if (!done) return say(t('backup.busy'));
      importForm.reset();
      say(t('backup.imported', /** @type {{messages: number, rooms: number}} */ (done)));
    });
  });
}
