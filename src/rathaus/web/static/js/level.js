// A microphone level meter: how loud the chosen microphone is, measured in this browser only
// (Web Audio), so that people see it works before they join.

/** Peak-hold smoothing: the bar falls back slowly, as people expect of a level meter. */
const FALL = 0.85;

/**
 * Root mean square of time-domain samples (0..1).
 * @param {Float32Array} samples @returns {number}
 */
export function rms(samples) {
  let sum = 0;
  for (const s of samples) sum += s * s;
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}

/** A level on a 0..1 scale that matches hearing better than raw RMS (speech sits near 0.5).
 * @param {number} value RMS @returns {number} */
export function scaled(value) {
  if (value <= 0) return 0;
  const db = 20 * Math.log10(value); // -60 dB (silence) .. 0 dB (full scale)
  return Math.min(1, Math.max(0, (db + 60) / 60));
}

export class LevelMeter {
  /** @param {HTMLMeterElement} meter */
  constructor(meter) {
    this.meter = meter;
    /** @type {AudioContext | null} */
    this.context = null;
    /** @type {AnalyserNode | null} */
    this.analyser = null;
    /** @type {MediaStreamAudioSourceNode | null} */
    this.source = null;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.timer = null;
    this.level = 0;
    // Browsers start an AudioContext made without a click suspended: any key or click resumes it.
    const resume = () => { this.context?.resume().catch(() => {}); };
    document.addEventListener('pointerdown', resume, { capture: true });
    document.addEventListener('keydown', resume, { capture: true });
  }

  /** Measures ``track`` (null: nothing to measure, the meter shows 0).
   * @param {MediaStreamTrack | null} track */
  attach(track) {
    this.detach();
    if (!track || typeof AudioContext === 'undefined') return;
    try {
      this.context ??= new AudioContext();
      this.context.resume().catch(() => {});
      this.analyser = this.context.createAnalyser();
      this.analyser.fftSize = 1024;
      this.source = this.context.createMediaStreamSource(new MediaStream([track]));
      this.source.connect(this.analyser);
    } catch (e) {
      console.info('rathaus: no level meter', e instanceof Error ? e.name : e);
      this.detach();
      return;
    }
    const samples = new Float32Array(this.analyser.fftSize);
    this.timer = setInterval(() => {
      if (!this.analyser) return;
      this.analyser.getFloatTimeDomainData(samples);
      const now = track.enabled ? scaled(rms(samples)) : 0;
      this.level = Math.max(now, this.level * FALL);
      this.meter.value = Math.round(this.level * 100) / 100;
    }, 100);
  }

  detach() {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.source?.disconnect();
    this.source = null;
    this.analyser = null;
    this.level = 0;
    this.meter.value = 0;
  }
}
