// "Backup of your chat history" on the home page: download this device's readable messages as a
// file sealed with a passphrase, and import such a file on a new device (js/chat/backup.js).

import { t } from '../i18n.js';
import { byId } from '../dom.js';
import { BackupError, MIN_PASSPHRASE, exportBackup, importBackup } from './backup.js';
import { defaultGroupStore } from './group-store.js';
import { ifDeviceFree } from './tab-lock.js';

/** @type {Record<string, import('../i18n.js').MessageKey>} */
const PROBLEMS = { passphrase: 'backup.wrongPassphrase', 'not-a-backup': 'backup.notABackup', 'other-user': 'backup.otherUser' };

/** @param {string} user the signed-in member's user name */
export function installBackup(user) {
  const status = byId('backup-status');
  const say = (/** @type {string} */ text) => { status.textContent = text; };
  /** @param {HTMLFormElement} form @param {() => Promise<void>} work */
  const busyWhile = async (form, work) => {
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button'));
    button.disabled = true;
    say(t('backup.working'));
    try {
      await work();
    } catch (error) {
      const code = error instanceof BackupError ? PROBLEMS[error.code] : undefined;
      say(code ? t(code) : t('backup.failed'));
      if (!code) console.warn('rathaus: backup:', error);
    } finally {
      button.disabled = false;
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
    busyWhile(importForm, async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      // Written into the device's rooms: not while another tab runs the chat on them.
      const done = await ifDeviceFree(() => importBackup(defaultGroupStore(), bytes, passphrase, user));
      if (!done) return say(t('backup.busy'));
      importForm.reset();
      say(t('backup.imported', /** @type {{messages: number, rooms: number}} */ (done)));
    });
  });
}
