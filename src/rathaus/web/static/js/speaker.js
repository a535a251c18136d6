// The loudspeaker (audio output) chosen by the participant, for every element that plays the
// others' audio. Only where the browser can choose (HTMLMediaElement.setSinkId).

const SPEAKER_KEY = 'rathaus.speaker';

/** Whether this browser lets a page choose its audio output. */
export const canChooseSpeaker = typeof HTMLMediaElement !== 'undefined'
  && 'setSinkId' in HTMLMediaElement.prototype;

/** @type {string} '' is the system's default output */
let current = (() => {
  try {
    return localStorage.getItem(SPEAKER_KEY) ?? '';
  } catch {
    return '';
  }
})();

/** @returns {string} the chosen output's device id ('' for the default) */
export function speaker() {
  return current;
}

/** Plays ``el``'s audio on the chosen output. @param {HTMLMediaElement} el */
export function applySpeaker(el) {
  const sinkable = /** @type {HTMLMediaElement & {sinkId: string, setSinkId(id: string): Promise<void>}} */ (el);
  if (!canChooseSpeaker || sinkable.sinkId === current) return;
  sinkable
    .setSinkId(current)
    .catch((e) => console.info('rathaus: setSinkId failed', e instanceof Error ? e.name : e));
}

/** Chooses the output for every playing element from now on. @param {string} id */
export function setSpeaker(id) {
  current = id;
  try {
    localStorage.setItem(SPEAKER_KEY, id);
  } catch {
    // storage disabled: the choice lasts for this page
  }
  for (const el of Array.from(document.querySelectorAll('video, audio'))) {
    applySpeaker(/** @type {HTMLMediaElement} */ (el));
  }
}
