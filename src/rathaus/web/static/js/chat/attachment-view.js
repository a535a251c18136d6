// Attachments on screen: a message's file (its thumbnail for pictures, which opens full size; its
// name and size; "Download", which decrypts, checks and saves it; "The file was altered" when the
// check fails), the composer's "Attach file" button (a hidden file input it opens) with its
// progress line, and thumbnails of pictures made here with a canvas (JPEG, at most 320 px, as a
// data: URL inside the encrypted message). The crypto and the HTTP: attachments.js.

import { t, errorText, language } from '../i18n.js';
import { AttachmentError, MAX_THUMBNAIL, formatSize, isPicture } from './attachments.js';

/** @typedef {import('./attachments.js').FileInfo} FileInfo */
/** @typedef {import('./attachments.js').Progress} Progress */
/** @typedef {'encrypting' | 'uploading' | 'sending'} Phase */
/**
 * What the composer's button asks of the page: encrypt, upload and send the file (telling how far
 * it got); the largest file it may take (bytes of the blob, unknown: undefined).
 * @typedef {{attach: (file: File, progress: (phase: Phase, done: number, total: number) => void) => Promise<unknown>,
 *   maxBytes: () => number | undefined}} AttachOptions
 */

const EDGES = [[320, 0.8], [320, 0.6], [240, 0.6], [160, 0.5]];

/**
 * A thumbnail of a picture as a JPEG data: URL small enough for a message; null for other files
 * or a picture the browser cannot decode.
 * @param {File} file
 * @returns {Promise<string | null>}
 */
export async function makeThumbnail(file) {
  if (!isPicture(file.type)) return null;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null;
  }
  try {
    for (const [edge, quality] of EDGES) {
      const scale = Math.min(1, edge / Math.max(bitmap.width, bitmap.height, 1));
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      const context = canvas.getContext('2d');
      if (!context) return null;
      context.fillStyle = '#ffffff'; // JPEG has no transparency
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const url = canvas.toDataURL('image/jpeg', quality);
      if (url.startsWith('data:image/jpeg;base64,') && url.length <= MAX_THUMBNAIL) return url;
    }
    return null;
  } finally {
    bitmap.close();
  }
}

/** @param {string} tag @param {string} [className] @param {string} [text] */
function element(tag, className = '', text = '') {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** @param {Blob} blob @param {string} name */
function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = /** @type {HTMLAnchorElement} */ (element('a'));
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** @param {unknown} error @returns {string} */
function reasonOf(error) {
  const code = error instanceof AttachmentError ? error.code : 'unknown';
  return code === 'altered' ? t('chat.attachment.altered') : errorText(code);
}

/**
 * A picture full size, in a dialog of its own (Escape or "Close" closes it; focus returns).
 * @param {Blob} picture @param {string} name
 */
function showPicture(picture, name) {
  const opener = /** @type {HTMLElement | null} */ (document.activeElement);
  const url = URL.createObjectURL(picture);
  const dialog = /** @type {HTMLDialogElement} */ (element('dialog', 'confirm-dialog picture-dialog'));
  dialog.setAttribute('aria-label', name);
  const image = /** @type {HTMLImageElement} */ (element('img', 'picture-full'));
  image.src = url;
  image.alt = name;
  const close = /** @type {HTMLButtonElement} */ (element('button', '', t('chat.attachment.close')));
  close.type = 'button';
  close.addEventListener('click', () => dialog.close());
  const buttons = element('div', 'confirm-buttons');
  buttons.append(close);
  dialog.append(image, buttons);
  dialog.addEventListener('close', () => {
    dialog.remove();
    URL.revokeObjectURL(url);
    if (opener?.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

/**
 * A message's attachment.
 * @param {FileInfo} info
 * @param {(info: FileInfo, progress: Progress) => Promise<Blob>} fetchFile downloads, decrypts, checks
 * @returns {HTMLElement}
 */
export function renderAttachment(info, fetchFile) {
  const box = element('div', 'attachment');
  const status = element('p', 'attachment-status');
  status.setAttribute('aria-live', 'polite');
  const problem = element('p', 'attachment-problem');
  problem.setAttribute('role', 'alert');
  problem.hidden = true;
  /** @param {HTMLButtonElement} button @param {(file: Blob) => void} use */
  const get = async (button, use) => {
    button.disabled = true;
    problem.hidden = true;
    let shown = -1;
    try {
      const file = await fetchFile(info, (done, total) => {
        const percent = total ? Math.floor((done / total) * 10) * 10 : 100;
        if (percent !== shown) status.textContent = t('chat.attachment.downloading', { percent });
        shown = percent;
      });
      use(file);
    } catch (error) {
      problem.textContent = reasonOf(error);
      problem.hidden = false;
      if (error instanceof AttachmentError && error.code === 'altered') box.classList.add('altered');
    } finally {
      status.textContent = '';
      button.disabled = false;
    }
  };
  if (info.thumbnail && isPicture(info.type)) {
    const open = /** @type {HTMLButtonElement} */ (element('button', 'attachment-preview'));
    open.type = 'button';
    open.setAttribute('aria-label', t('chat.attachment.show', { name: info.name }));
    const thumbnail = /** @type {HTMLImageElement} */ (element('img'));
    thumbnail.src = info.thumbnail;
    thumbnail.alt = info.name;
    open.append(thumbnail);
    open.addEventListener('click', () => get(open, (file) => showPicture(file, info.name)));
    box.append(open);
  }
  const row = element('p', 'attachment-row');
  row.append(
    element('span', 'icon icon-attach'),
    element('span', 'attachment-size', formatSize(info.size, language())),
  );
  /** @type {HTMLElement} */ (row.firstChild).setAttribute('aria-hidden', 'true');
  const download = /** @type {HTMLButtonElement} */ (element('button', 'message-action', t('chat.attachment.download')));
  download.type = 'button';
  download.setAttribute('aria-label', t('chat.attachment.downloadNamed', { name: info.name }));
  download.addEventListener('click', () => get(download, (file) => save(file, info.name)));
  row.append(download);
  box.append(row, status, problem);
  return box;
}

/**
 * The composer's "Attach file": the chosen file goes out at once; a progress line while it is
 * encrypted and uploaded, the composer's error line if it cannot be sent.
 * @param {HTMLElement} root the chat panel
 * @param {AttachOptions} options
 */
export function installAttach(root, options) {
  const button = /** @type {HTMLButtonElement | null} */ (root.querySelector('#attach-button'));
  const input = /** @type {HTMLInputElement | null} */ (root.querySelector('#attach-input'));
  const status = /** @type {HTMLElement} */ (root.querySelector('#composer-status'));
  const error = /** @type {HTMLElement} */ (root.querySelector('#composer-error'));
  if (!button || !input) return;
  button.addEventListener('click', () => input.click());
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    input.value = ''; // the same file may be chosen again
    if (!file) return;
    button.disabled = true;
    error.textContent = '';
    /** @type {string} */
    let shown = '';
    try {
      await options.attach(file, (phase, done, total) => {
        const percent = total ? Math.floor((done / total) * 10) * 10 : 100;
        const text = t(/** @type {import('../i18n.js').MessageKey} */ (`chat.attachment.${phase}`), { name: file.name, percent });
        if (text !== shown) status.textContent = text;
        shown = text;
      });
    } catch (failure) {
      const code = failure instanceof AttachmentError ? failure.code : /** @type {{code?: string}} */ (failure)?.code;
      const max = options.maxBytes();
      if (code === 'too_large') {
        error.textContent = max === undefined
          ? t('chat.attachment.tooLargeUnknown', { name: file.name })
          : t('chat.attachment.tooLarge', { name: file.name, max: formatSize(max, language()) });
      } else if (code === 'rate_limited') {
        error.textContent = t('chat.attachment.rateLimited');
      } else {
        error.textContent = t('chat.attachment.failed', { name: file.name, reason: errorText(code ?? 'unknown') });
      }
    } finally {
      status.textContent = '';
      button.disabled = false;
    }
  });
}
