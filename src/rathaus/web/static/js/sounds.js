// A short, quiet chime when someone joins (rising) or leaves (falling), made in the browser
// (Web Audio: no sound files, nothing fetched). Off unless the participant turns it on ("More").

const SOUNDS_KEY = 'rathaus.sounds';

/** The two notes of each chime (Hz), and how loud (a gentle 0.08 of full scale). */
export const CHIMES = { join: [660, 880], leave: [880, 660] };
const GAIN = 0.08;
const NOTE_S = 0.12;

let on = (() => {
  try {
    return localStorage.getItem(SOUNDS_KEY) === 'true';
  } catch {
    return false;
  }
})();
/** @type {AudioContext | null} */
let context = null;

/** @returns {boolean} */
export function soundsOn() {
  return on;
}

/** @param {boolean} value */
export function setSounds(value) {
  on = value;
  try {
    localStorage.setItem(SOUNDS_KEY, String(value));
  } catch {
    // storage disabled: the choice lasts for this page
  }
}

/** Plays the chime for ``kind`` if sounds are on. @param {'join' | 'leave'} kind */
export function chime(kind) {
  if (!on || typeof AudioContext === 'undefined') return;
  try {
    context ??= new AudioContext();
    const start = context.currentTime;
    CHIMES[kind].forEach((hz, i) => {
      if (!context) return;
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.frequency.value = hz;
      gain.gain.setValueAtTime(GAIN, start + i * NOTE_S);
      gain.gain.exponentialRampToValueAtTime(0.001, start + (i + 1) * NOTE_S);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start + i * NOTE_S);
      oscillator.stop(start + (i + 1) * NOTE_S);
    });
  } catch (e) {
    console.info('rathaus: no chime', e instanceof Error ? e.name : e);
  }
}
