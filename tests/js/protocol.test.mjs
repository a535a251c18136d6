// Key envelopes for many recipients go out in few messages, each within the server's limits.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {MAX_ENVELOPES_PER_MESSAGE, msg} from '../../src/rathaus/web/static/js/protocol.js';

/** @param {number} count @param {number} length */
function envelopes(count, length = 236) {
  return Array.from({length: count}, (_, i) => ({to: i.toString(16).padStart(16, '0'), envelope: 'A'.repeat(length)}));
}

test('one envelope is a key_envelope of its own', () => {
  const [one] = envelopes(1);
  assert.deepEqual(msg.keyEnvelopes([one]), [{type: 'key_envelope', to: one.to, envelope: one.envelope}]);
});

test('a rotation for 199 others: two key_envelopes messages, every envelope once, in order', () => {
  const all = envelopes(199);
  const messages = msg.keyEnvelopes(all);
  assert.deepEqual(messages.map((m) => m.type), ['key_envelopes', 'key_envelopes']);
  const sent = messages.flatMap((m) => /** @type {{envelopes: {to: string}[]}} */ (m).envelopes);
  assert.deepEqual(sent, all);
  for (const m of messages) {
    const batch = /** @type {{envelopes: unknown[]}} */ (m).envelopes;
    assert.ok(batch.length <= MAX_ENVELOPES_PER_MESSAGE);
    assert.ok(JSON.stringify(m).length < 48 * 1024, 'well within the 64 KiB frame limit');
  }
});

test('large envelopes: batches stay small enough for the socket', () => {
  const messages = msg.keyEnvelopes(envelopes(40, 5000));
  assert.ok(messages.length > 1);
  for (const m of messages) assert.ok(JSON.stringify(m).length < 48 * 1024);
  assert.equal(messages.flatMap((m) => /** @type {{envelopes: unknown[]}} */ (m).envelopes).length, 40);
});

test('nothing to send, no message', () => {
  assert.deepEqual(msg.keyEnvelopes([]), []);
});
