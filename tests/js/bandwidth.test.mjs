// The bandwidth estimate from getStats() reports (bandwidth.js), and when a connection counts as
// weak: below 250 kbit/s for 10 s, and only once.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  BandwidthWatch, WEAK_BPS, WEAK_FOR_MS, WeakLink, estimateBitrate, selectedPair,
} from '../../src/rathaus/web/static/js/bandwidth.js';

/** A getStats() report whose transport uses a pair with these estimates. */
function report({incoming, outgoing}) {
  const stats = [
    {id: 'T1', type: 'transport', selectedCandidatePairId: 'CP2'},
    {id: 'CP1', type: 'candidate-pair', availableIncomingBitrate: 9e9, availableOutgoingBitrate: 9e9},
    {id: 'CP2', type: 'candidate-pair', availableIncomingBitrate: incoming, availableOutgoingBitrate: outgoing},
  ];
  return new Map(stats.map((s) => [s.id, s]));
}

test('the selected pair is the transport’s, else the nominated one that works', () => {
  assert.equal(selectedPair(report({incoming: 1, outgoing: 2}))?.id, 'CP2');
  const firefox = new Map([
    ['a', {id: 'a', type: 'candidate-pair', nominated: false, state: 'succeeded'}],
    ['b', {id: 'b', type: 'candidate-pair', nominated: true, state: 'succeeded'}],
  ]);
  assert.equal(selectedPair(firefox)?.id, 'b');
  assert.equal(selectedPair(new Map()), null);
});

test('each direction adds up its connections; the weaker direction counts', () => {
  const down = [report({incoming: 100_000}), report({incoming: 150_000}), null];
  assert.equal(estimateBitrate({incoming: down, outgoing: []}), 250_000);
  assert.equal(estimateBitrate({incoming: down, outgoing: [report({outgoing: 80_000})]}), 80_000);
  assert.equal(estimateBitrate({incoming: [], outgoing: [report({outgoing: 2e6})]}), 2e6);
  // Chromium leaves availableIncomingBitrate out: no estimate is no weak connection.
  assert.equal(estimateBitrate({incoming: [report({})], outgoing: []}), null);
  assert.equal(estimateBitrate({incoming: [], outgoing: []}), null);
});

test('weak only after staying below the threshold for the whole time', () => {
  const link = new WeakLink();
  assert.equal(WEAK_BPS, 250_000);
  assert.equal(link.add(0, 200_000), false);
  assert.equal(link.add(WEAK_FOR_MS - 1, 200_000), false);
  assert.equal(link.add(WEAK_FOR_MS, 200_000), true);
  // A good moment, or no estimate, starts over.
  assert.equal(link.add(WEAK_FOR_MS + 1, 300_000), false);
  assert.equal(link.add(WEAK_FOR_MS + 2, 100_000), false);
  assert.equal(link.add(WEAK_FOR_MS + 3, null), false);
  assert.equal(link.add(2 * WEAK_FOR_MS + 2, 100_000), false);
});

test('the watch reads every connection and says so once', async () => {
  let now = 0;
  let bps = 100_000;
  const pc = {getStats: async () => report({outgoing: bps})};
  const broken = {getStats: async () => { throw new Error('closed'); }};
  const heard = [];
  const watch = new BandwidthWatch(() => ({incoming: [broken], outgoing: [pc]}), (b) => heard.push(b), {now: () => now});
  for (now = 0; now <= 12_000; now += 3_000) await watch.sample();
  assert.deepEqual(heard, [100_000]);
  assert.equal(watch.last, 100_000);
  await watch.sample();
  assert.deepEqual(heard, [100_000]); // once per meeting
  bps = 5e6;
  const good = new BandwidthWatch(() => ({incoming: [], outgoing: [pc]}), () => assert.fail('not weak'), {now: () => now});
  for (let i = 0; i < 6; i += 1, now += 3_000) await good.sample();
  assert.equal(good.last, 5e6);
});
