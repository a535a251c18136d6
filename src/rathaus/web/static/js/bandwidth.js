// How much the connection carries, from the browsers' own estimates (RTCPeerConnection.getStats():
// the selected candidate pair's availableIncomingBitrate of the subscriptions and
// availableOutgoingBitrate of the publications), and whether it stayed weak long enough to offer
// "audio only". No DOM; the estimator is pure (tests/js/bandwidth.test.mjs).

/** Below this (bit/s) video hardly gets through. */
export const WEAK_BPS = 250_000;
/** …for this long (ms): one slow moment is no weak connection. */
export const WEAK_FOR_MS = 10_000;
export const SAMPLE_EVERY_MS = 3_000;

/** @typedef {{forEach(callback: (stat: any) => void): void}} StatsLike a getStats() report */

/** The candidate pair a report's transport uses (or the nominated one that works), or null.
 * @param {StatsLike} report @returns {Record<string, any> | null} */
export function selectedPair(report) {
  /** @type {Record<string, any>[]} */
  const stats = [];
  report.forEach((s) => stats.push(s));
  const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
  if (transport) return stats.find((s) => s.id === transport.selectedCandidatePairId) ?? null;
  return stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') ?? null;
}

/** @param {(StatsLike | null)[]} reports @param {string} field @returns {number | null} */
function total(reports, field) {
  const values = reports
    .map((r) => (r ? selectedPair(r)?.[field] : undefined))
    .filter((v) => typeof v === 'number' && Number.isFinite(v) && v > 0);
  return values.length ? values.reduce((a, b) => a + b, 0) : null;
}

/**
 * The connection's estimated bandwidth (bit/s), or null where the browser says nothing: each
 * direction the sum over its peer connections (they share the line), and the weaker direction
 * counts — audio only helps both (no video in, no camera out).
 * @param {{incoming: (StatsLike | null)[], outgoing: (StatsLike | null)[]}} reports
 * @returns {number | null}
 */
export function estimateBitrate({ incoming, outgoing }) {
  const known = [total(incoming, 'availableIncomingBitrate'), total(outgoing, 'availableOutgoingBitrate')]
    .filter((v) => v !== null);
  return known.length ? Math.min(.../** @type {number[]} */ (known)) : null;
}

/** Weak once the estimate stayed below `threshold` for `duration` ms; no estimate starts over. */
export class WeakLink {
  /** @param {{threshold?: number, duration?: number}} [limits] */
  constructor({ threshold = WEAK_BPS, duration = WEAK_FOR_MS } = {}) {
    this.threshold = threshold;
    this.duration = duration;
    /** @type {number | null} since when it is weak */
    this.since = null;
  }

  /** @param {number} now ms @param {number | null} bps @returns {boolean} weak for long enough */
  add(now, bps) {
    if (bps === null || bps >= this.threshold) {
      this.since = null;
      return false;
    }
    if (this.since === null) this.since = now;
    return now - this.since >= this.duration;
  }
}

/** @typedef {{getStats(): Promise<StatsLike>}} StatsSource */

/** Samples the peer connections every few seconds; calls `onWeak` once, then stops. */
export class BandwidthWatch {
  /**
   * @param {() => {incoming: StatsSource[], outgoing: StatsSource[]}} peers
   * @param {(bps: number) => void} onWeak
   * @param {{link?: WeakLink, now?: () => number, every?: number}} [options]
   */
  constructor(peers, onWeak, { link = new WeakLink(), now = () => performance.now(), every = SAMPLE_EVERY_MS } = {}) {
    this.peers = peers;
    this.onWeak = onWeak;
    this.link = link;
    this.now = now;
    this.every = every;
    /** @type {ReturnType<typeof setInterval> | undefined} */
    this.timer = undefined;
    /** @type {number | null} the last estimate (bit/s), for the test hook */
    this.last = null;
    this.fired = false;
  }

  start() {
    this.stop();
    this.timer = setInterval(() => { this.sample(); }, this.every);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One reading. @returns {Promise<boolean>} weak (and reported) */
  async sample() {
    const { incoming, outgoing } = this.peers();
    const read = (/** @type {StatsSource[]} */ list) => Promise.all(list.map((pc) => pc.getStats().catch(() => null)));
    const bps = estimateBitrate({ incoming: await read(incoming), outgoing: await read(outgoing) });
    this.last = bps;
    if (this.fired || !this.link.add(this.now(), bps)) return false;
    this.fired = true;
    this.stop();
    this.onWeak(/** @type {number} */ (bps));
    return true;
  }
}
