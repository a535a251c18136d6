// The browser's side of raised hands and reactions in protocol.js: what it sends, and what of
// the server's messages it takes (anything off the allow-list is dropped).
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {REACTIONS, msg, parseServerMessage} from '../../src/rathaus/web/static/js/protocol.js';

test('the client sends its hand and its reactions as the server expects them', () => {
  assert.deepEqual(msg.raiseHand(true), {type: 'raise_hand', raised: true});
  assert.deepEqual(msg.raiseHand(false), {type: 'raise_hand', raised: false});
  assert.deepEqual(msg.react('thumbs_up'), {type: 'react', reaction: 'thumbs_up'});
  assert.deepEqual(msg.about('lower_hand', 'ab12'), {type: 'lower_hand', id: 'ab12'});
  assert.deepEqual([...REACTIONS], ['thumbs_up', 'applause', 'laugh', 'surprise', 'heart', 'party']);
});

test('the queue of hands is parsed in order, and a malformed one dropped', () => {
  const hands = [
    {participant: 'b0', position: 1, raised_at: 1700000000.5},
    {participant: 'a1', position: 2, raised_at: 1700000004},
  ];
  assert.deepEqual(parseServerMessage(JSON.stringify({type: 'hands', hands})), {type: 'hands', hands});
  assert.equal(parseServerMessage(JSON.stringify({type: 'hands', hands: [{participant: 'b0'}]})), null);
  assert.equal(parseServerMessage(JSON.stringify({type: 'hands'})), null);
});

test('a reaction off the allow-list is dropped', () => {
  const ok = {type: 'reaction', participant: 'a1', reaction: 'heart'};
  assert.deepEqual(parseServerMessage(JSON.stringify(ok)), ok);
  for (const reaction of ['❤️', '<img src=x>', 'HEART', null]) {
    assert.equal(parseServerMessage(JSON.stringify({...ok, reaction})), null, String(reaction));
  }
});

test('welcome carries the hands (none from an older server)', () => {
  const base = {type: 'welcome', self: {id: 'a1', name: 'Anna'}, resume: 'r'};
  const hands = [{participant: 'b0', position: 1, raised_at: 1}];
  assert.deepEqual(parseServerMessage(JSON.stringify({...base, hands}))?.hands, hands);
  assert.deepEqual(parseServerMessage(JSON.stringify(base))?.hands, []);
});
