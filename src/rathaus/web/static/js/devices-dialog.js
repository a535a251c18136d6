// "Devices" in the meeting: switch camera, microphone and loudspeaker without leaving.

import { t } from './i18n.js';
import { NONE, fillDeviceSelect, fillSpeakerSelect, listDevices, speakers } from './devices.js';
import { canChooseSpeaker, setSpeaker } from './speaker.js';
import { ModalPanel } from './dialog.js';

/** @typedef {import('./local.js').LocalMedia} LocalMedia */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

export class DevicesDialog {
  /** @param {() => LocalMedia | null} local the meeting's own media, if in a meeting
   * @param {() => HTMLElement | null} fallback where the focus goes if its opener went */
  constructor(local, fallback) {
    this.local = local;
    this.panel = new ModalPanel('devices-dialog', fallback);
    this.camera = /** @type {HTMLSelectElement} */ (byId('devices-camera'));
    this.mic = /** @type {HTMLSelectElement} */ (byId('devices-microphone'));
    this.speakerField = byId('devices-speaker-field');
    this.speaker = /** @type {HTMLSelectElement} */ (byId('devices-speaker'));
    this.error = byId('devices-error');
    this.camera.addEventListener('change', () => this.use('video', this.camera.value));
    this.mic.addEventListener('change', () => this.use('audio', this.mic.value));
    this.speaker.addEventListener('change', () => setSpeaker(this.speaker.value));
  }

  async open() {
    const local = this.local();
    if (!local) return;
    this.error.textContent = '';
    const devices = await listDevices();
    const cameraNow = local.video?.getSettings().deviceId ?? (local.cameraId || NONE);
    const micNow = local.audio?.getSettings().deviceId ?? (local.micId || NONE);
    fillDeviceSelect(this.camera, devices.filter((d) => d.kind === 'videoinput'), cameraNow, t('prejoin.noCamera'));
    fillDeviceSelect(this.mic, devices.filter((d) => d.kind === 'audioinput'), micNow, t('prejoin.noMicrophone'));
    const outputs = speakers(devices);
    this.speakerField.hidden = !canChooseSpeaker || outputs.length === 0;
    if (!this.speakerField.hidden) fillSpeakerSelect(this.speaker, outputs);
    this.panel.show(this.camera);
  }

  /** @param {'audio' | 'video'} kind @param {string} id */
  async use(kind, id) {
    const local = this.local();
    if (!local) return;
    const done = kind === 'video' ? await local.useCamera(id) : await local.useMicrophone(id);
    this.error.textContent = done ? '' : t(kind === 'video' ? 'notice.cameraFailed' : 'devices.micFailed');
  }

  close() {
    this.panel.close();
  }
}
