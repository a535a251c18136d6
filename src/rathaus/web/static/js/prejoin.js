// The pre-join screen: camera/microphone preview, device choice (with a microphone level meter
// and, where the browser can, the loudspeaker), joining with microphone or camera off, and the
// display name.

import { t } from './i18n.js';
import { normalizeName } from './protocol.js';
import { LevelMeter } from './level.js';
import { canChooseSpeaker, setSpeaker } from './speaker.js';
import { NONE, fillDeviceSelect, fillSpeakerSelect, listDevices, speakers } from './devices.js';

const NAME_KEY = 'rathaus.name';
const CAMERA_KEY = 'rathaus.camera';
const MIC_KEY = 'rathaus.microphone';
const MIC_OFF_KEY = 'rathaus.joinMicOff';
const CAMERA_OFF_KEY = 'rathaus.joinCameraOff';

/** @param {string} key @returns {string | null} */
function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** @param {string} key @param {string} value */
function store(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch {
    // storage disabled: nothing to remember
  }
}

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/**
 * Opens camera and microphone with the given device choices (null = default device,
 * NONE = no device). Falls back to audio only, then video only. Never throws.
 * @param {string | null} cameraId @param {string | null} micId
 * @returns {Promise<MediaStream | null>}
 */
export async function openDevices(cameraId, micId) {
  if (!navigator.mediaDevices?.getUserMedia) return null;
  /** @type {MediaTrackConstraints | false} */
  const video = cameraId === NONE ? false : {
    width: { ideal: 1280 }, height: { ideal: 720 }, ...(cameraId ? { deviceId: { exact: cameraId } } : {}),
  };
  /** @type {MediaTrackConstraints | boolean} */
  const audio = micId === NONE ? false : micId ? { deviceId: { exact: micId } } : true;
  /** @type {MediaStreamConstraints[]} */
  const attempts = [{ audio, video }];
  if (audio && video) attempts.push({ audio, video: false }, { audio: false, video });
  for (const constraints of attempts) {
    if (!constraints.audio && !constraints.video) continue;
    try {
      return await navigator.mediaDevices.getUserMedia(constraints);
    } catch (e) {
      console.info('rathaus: getUserMedia failed', e instanceof Error ? e.name : e);
    }
  }
  return null;
}

/** Stops every track of a stream. @param {MediaStream | null} stream */
export function stopStream(stream) {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

export class PreJoin {
  constructor() {
    this.root = byId('prejoin');
    this.form = /** @type {HTMLFormElement} */ (byId('prejoin-form'));
    this.nameInput = /** @type {HTMLInputElement} */ (byId('name-input'));
    this.cameraSelect = /** @type {HTMLSelectElement} */ (byId('camera-select'));
    this.micSelect = /** @type {HTMLSelectElement} */ (byId('microphone-select'));
    this.video = /** @type {HTMLVideoElement} */ (byId('preview-video'));
    this.previewOff = byId('preview-off');
    this.mediaNote = byId('media-note');
    this.error = byId('prejoin-error');
    this.passwordField = byId('room-password-field');
    this.passwordInput = /** @type {HTMLInputElement} */ (byId('room-password-input'));
    this.button = /** @type {HTMLButtonElement} */ (byId('join-button'));
    this.micOff = /** @type {HTMLInputElement} */ (byId('mic-off-input'));
    this.cameraOff = /** @type {HTMLInputElement} */ (byId('camera-off-input'));
    this.speakerField = byId('speaker-field');
    this.speakerSelect = /** @type {HTMLSelectElement} */ (byId('speaker-select'));
    this.level = new LevelMeter(/** @type {HTMLMeterElement} */ (byId('mic-level')));
    /** @type {MediaStream | null} */
    this.stream = null;
    this.busy = false;
    /** @type {Promise<void>} the device opening in progress (join waits for it) */
    this.opening = Promise.resolve();
    /** @type {(name: string, stream: MediaStream | null) => void} */
    this.onJoin = () => {};

    this.nameInput.value = load(NAME_KEY) ?? '';
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    for (const input of [this.nameInput, this.passwordInput]) {
      input.addEventListener('input', () => {
        if (input.getAttribute('aria-invalid') === 'true') this.showError(null);
      });
    }
    this.cameraSelect.addEventListener('change', () => this.reopen());
    this.micSelect.addEventListener('change', () => this.reopen());
    this.micOff.checked = load(MIC_OFF_KEY) === 'true';
    this.cameraOff.checked = load(CAMERA_OFF_KEY) === 'true';
    this.micOff.addEventListener('change', () => {
      store(MIC_OFF_KEY, String(this.micOff.checked));
      this.applyMicOff();
    });
    this.cameraOff.addEventListener('change', () => {
      store(CAMERA_OFF_KEY, String(this.cameraOff.checked));
      this.reopen();
    });
    this.speakerSelect.addEventListener('change', () => setSpeaker(this.speakerSelect.value));
  }

  /** The camera to open: none while "join with camera off" is ticked. @param {string | null} id */
  cameraToOpen(id) {
    return this.cameraOff.checked ? NONE : id;
  }

  /** "Join with microphone off": the microphone stays open (so that it can be switched on at
   * once in the meeting) but sends silence, and the meter shows nothing. */
  applyMicOff() {
    const track = this.stream?.getAudioTracks()[0] ?? null;
    if (track) track.enabled = !this.micOff.checked;
    this.level.attach(track);
  }

  /** Shows the screen and starts the preview with the remembered devices. */
  async show() {
    this.root.hidden = false;
    this.setBusy(false);
    if (!this.stream) {
      this.opening = openDevices(this.cameraToOpen(load(CAMERA_KEY)), load(MIC_KEY)).then((stream) => {
        this.stream = stream;
        this.showPreview();
      });
      await this.opening;
    }
    await this.fillDeviceLists();
    if (!this.nameInput.value) this.nameInput.focus();
  }

  /** Shows the preview again (after coming back from the lobby). */
  restore() {
    this.root.hidden = false;
    this.setBusy(false);
    if (this.stream) this.showPreview();
  }

  /** The room password field: shown up front for a room with a password, and when the server
   * asks for one (then with the focus in it). @param {boolean} [focus] */
  askPassword(focus = true) {
    this.passwordField.hidden = false;
    if (!focus) return;
    this.passwordInput.focus();
    this.passwordInput.select();
  }

  /** @returns {string | undefined} the room password, if the field is shown and filled */
  password() {
    return this.passwordField.hidden ? undefined : this.passwordInput.value || undefined;
  }

  /** @param {string} name */
  prefillName(name) {
    const clean = normalizeName(name);
    if (clean) this.nameInput.value = clean;
  }

  hide() {
    this.root.hidden = true;
    this.video.srcObject = null;
    this.level.detach();
  }

  /** Hands the preview stream over to the meeting (the caller owns it from now on).
   * @returns {MediaStream | null} */
  takeStream() {
    const stream = this.stream;
    this.stream = null;
    return stream;
  }

  /** @param {string | null} text @param {'name' | 'password' | null} [field] the field at fault */
  showError(text, field = 'name') {
    this.error.textContent = text ?? '';
    for (const [name, input] of /** @type {const} */ ([['name', this.nameInput], ['password', this.passwordInput]])) {
      if (text && field === name) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    this.busy = busy;
    this.button.disabled = busy;
    this.button.textContent = t(busy ? 'prejoin.joining' : 'prejoin.join');
  }

  async submit() {
    if (this.busy) return;
    const name = normalizeName(this.nameInput.value);
    if (!name) {
      this.showError(t(this.nameInput.value.trim() ? 'error.invalid_name' : 'prejoin.nameRequired'));
      this.nameInput.focus();
      return;
    }
    this.showError(null);
    store(NAME_KEY, name);
    this.setBusy(true);
    await this.opening;
    this.onJoin(name, this.stream);
  }

  async reopen() {
    const cameraId = this.cameraSelect.value || null;
    const micId = this.micSelect.value || null;
    store(CAMERA_KEY, cameraId ?? '');
    store(MIC_KEY, micId ?? '');
    stopStream(this.stream);
    this.stream = null;
    this.opening = openDevices(this.cameraToOpen(cameraId), micId).then((stream) => {
      this.stream = stream;
      this.showPreview();
    });
    await this.opening;
    await this.fillDeviceLists();
  }

  showPreview() {
    const hasVideo = !!this.stream?.getVideoTracks().length;
    this.video.srcObject = hasVideo ? this.stream : null;
    this.video.hidden = !hasVideo;
    this.previewOff.hidden = hasVideo;
    this.previewOff.textContent = t(this.cameraOff.checked ? 'prejoin.cameraOffPreview' : 'prejoin.previewOff');
    this.applyMicOff();
    const anyDevice = !!this.stream?.getTracks().length;
    const noneChosen = (this.cameraOff.checked || this.cameraSelect.value === NONE) && this.micSelect.value === NONE;
    this.mediaNote.textContent = anyDevice || noneChosen ? '' : t('prejoin.mediaDenied');
    this.mediaNote.hidden = anyDevice || noneChosen;
  }

  async fillDeviceLists() {
    const devices = await listDevices();
    const current = {
      // With the camera off, the camera chosen before stays chosen.
      videoinput: this.stream?.getVideoTracks()[0]?.getSettings().deviceId
        ?? (this.cameraOff.checked ? load(CAMERA_KEY) || this.cameraSelect.value || NONE : NONE),
      audioinput: this.stream?.getAudioTracks()[0]?.getSettings().deviceId ?? NONE,
    };
    fillDeviceSelect(this.cameraSelect, devices.filter((d) => d.kind === 'videoinput'), current.videoinput,
      t('prejoin.noCamera'));
    fillDeviceSelect(this.micSelect, devices.filter((d) => d.kind === 'audioinput'), current.audioinput,
      t('prejoin.noMicrophone'));
    this.fillSpeakers(speakers(devices));
  }

  /** The loudspeaker choice, shown only where the browser can choose and there is a choice.
   * @param {MediaDeviceInfo[]} outputs */
  fillSpeakers(outputs) {
    this.speakerField.hidden = !canChooseSpeaker || outputs.length === 0;
    if (!this.speakerField.hidden) fillSpeakerSelect(this.speakerSelect, outputs);
  }
}
