// The browser's cameras, microphones and loudspeakers as choices in a <select>.

import { t } from './i18n.js';
import { speaker } from './speaker.js';

/** Value of the "no device" option in the selects. */
export const NONE = 'none';

/** @returns {Promise<MediaDeviceInfo[]>} */
export async function listDevices() {
  try {
    return (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
  } catch {
    return [];
  }
}

/**
 * Fills ``select`` with ``devices`` (by label, or "Device 2" before permission is given) and,
 * if ``noneLabel`` is given, a last "no device" option; selects ``selected`` if it is there.
 * @param {HTMLSelectElement} select @param {MediaDeviceInfo[]} devices
 * @param {string} selected @param {string | null} noneLabel
 */
export function fillDeviceSelect(select, devices, selected, noneLabel) {
  select.replaceChildren();
  devices.forEach((device, i) => {
    if (!device.deviceId) return; // no permission yet: ids and labels are hidden
    const option = document.createElement('option');
    option.value = device.deviceId;
    option.textContent = device.label || t('prejoin.deviceN', { n: i + 1 });
    select.append(option);
  });
  if (noneLabel !== null) {
    const none = document.createElement('option');
    none.value = NONE;
    none.textContent = noneLabel;
    select.append(none);
  }
  const options = Array.from(select.options);
  if (options.some((o) => o.value === selected)) select.value = selected;
  else if (noneLabel !== null) select.value = NONE;
}

/** The loudspeakers one can choose between ("default" is the system's, offered apart).
 * @param {MediaDeviceInfo[]} devices @returns {MediaDeviceInfo[]} */
export function speakers(devices) {
  return devices.filter((d) => d.kind === 'audiooutput' && d.deviceId && d.deviceId !== 'default');
}

/** The loudspeaker choices: the system's default first, then ``outputs``; the chosen one selected.
 * @param {HTMLSelectElement} select @param {MediaDeviceInfo[]} outputs */
export function fillSpeakerSelect(select, outputs) {
  const system = document.createElement('option');
  system.value = '';
  system.textContent = t('prejoin.defaultSpeaker');
  select.replaceChildren(system);
  fillDeviceSelect(select, outputs, '', null);
  select.prepend(system);
  const chosen = speaker();
  select.value = outputs.some((d) => d.deviceId === chosen) ? chosen : '';
}
