// The conversation as a device holds it (js/chat/thread.js): edits only by the author, reactions
// as sets of people, deletions, replies, order, and nothing applied twice.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {apply, excerpt, find} from '../../src/rathaus/web/static/js/chat/thread.js';

/** @param {Partial<import('../../src/rathaus/web/static/js/chat/thread.js').ThreadItem>} fields */
const item = (fields) => ({
  seq: 1, kind: /** @type {'message'} */ ('message'), user: 'olga', device: 'd1', at: 1000,
  rel: null, ref: null, content: {t: 'text', body: 'Hallo'}, problem: null, ...fields,
});

test('messages are kept in order and each only once', () => {
  const messages = [];
  apply(messages, item({seq: 3}));
  apply(messages, item({seq: 1}));
  const again = apply(messages, item({seq: 3, content: {t: 'text', body: 'other'}}));
  assert.deepEqual(messages.map((m) => m.seq), [1, 3]);
  assert.deepEqual(again, {added: null, changed: null});
  assert.equal(find(messages, 3)?.body, 'Hallo');
});

test('only the author edits a message', () => {
  const messages = [];
  apply(messages, item({seq: 1}));
  assert.equal(apply(messages, item({seq: 2, user: 'mia', rel: 'edit', ref: 1, content: {body: 'x'}})).changed, null);
  const {changed} = apply(messages, item({seq: 3, rel: 'edit', ref: 1, content: {body: 'Hallo!'}}));
  assert.equal(changed?.body, 'Hallo!');
  assert.equal(changed?.edited, true);
  assert.equal(messages.length, 1);
});

test('reactions are sets of people, on and off', () => {
  const messages = [];
  apply(messages, item({seq: 1}));
  apply(messages, item({seq: 2, user: 'mia', rel: 'react', ref: 1, content: {reaction: 'heart'}}));
  apply(messages, item({seq: 3, user: 'mia', rel: 'react', ref: 1, content: {reaction: 'heart'}}));
  apply(messages, item({seq: 4, user: 'tom', rel: 'react', ref: 1, content: {reaction: 'heart'}}));
  assert.deepEqual(find(messages, 1)?.reactions, {heart: ['mia', 'tom']});
  apply(messages, item({seq: 5, user: 'mia', rel: 'react', ref: 1, content: {reaction: 'heart', on: false}}));
  apply(messages, item({seq: 6, user: 'tom', rel: 'react', ref: 1, content: {reaction: 'heart', on: false}}));
  assert.deepEqual(find(messages, 1)?.reactions, {});
  const unknown = apply(messages, item({seq: 7, rel: 'react', ref: 1, content: {reaction: '<img>'}}));
  assert.equal(unknown.changed, null);
});

test('a deletion empties the message, its edits and reactions', () => {
  const messages = [];
  apply(messages, item({seq: 1}));
  apply(messages, item({seq: 2, user: 'mia', rel: 'react', ref: 1, content: {reaction: 'party'}}));
  const {changed} = apply(messages, item({seq: 3, kind: 'delete', ref: 1, content: null}));
  assert.deepEqual({body: changed?.body, deleted: changed?.deleted, reactions: changed?.reactions},
    {body: null, deleted: true, reactions: {}});
  assert.equal(apply(messages, item({seq: 4, rel: 'edit', ref: 1, content: {body: 'back'}})).changed, null);
  const late = apply(messages, item({seq: 5, problem: 'deleted', content: null}));
  assert.equal(late.added?.deleted, true); // a message deleted before this device read it
});

test('replies name what they answer; unreadable ones say why', () => {
  const messages = [];
  apply(messages, item({seq: 1, content: {t: 'text', body: 'Ist die Vorlage fertig?   Bitte bis morgen.'}}));
  const reply = apply(messages, item({seq: 2, user: 'mia', rel: 'reply', ref: 1, content: {body: 'Ja'}})).added;
  assert.equal(reply?.reply, 1);
  assert.equal(excerpt(/** @type {any} */ (find(messages, 1)), 20), 'Ist die Vorlage fer…');
  const lost = apply(messages, item({seq: 3, content: null, problem: 'before-join'})).added;
  assert.deepEqual({body: lost?.body, problem: lost?.problem}, {body: null, problem: 'before-join'});
  const broken = apply(messages, item({seq: 4, content: {body: 42}})).added;
  assert.equal(broken?.problem, 'undecryptable');
});

test('a message with an attachment keeps its file, checked; a deletion drops it', () => {
  const file = {
    blob: 'A'.repeat(22), key: 'k'.repeat(43), iv: 'i'.repeat(16), name: 'Plan.pdf', type: 'application/pdf',
    size: 1234, sha256: 'g'.repeat(43),
  };
  const messages = [];
  const {added} = apply(messages, item({seq: 1, content: {t: 'file', body: 'Plan.pdf', file}}));
  assert.deepEqual(added?.file, file);
  assert.equal(added?.body, 'Plan.pdf');
  assert.equal(apply(messages, item({seq: 2})).added?.file, null); // a text has none
  const forged = apply(messages, item({seq: 3, content: {t: 'file', body: 'x', file: {...file, blob: '../../etc'}}}));
  assert.equal(forged.added?.file, null);
  apply(messages, item({seq: 4, rel: 'edit', ref: 1, content: {body: 'Plan (neu).pdf'}}));
  assert.deepEqual(find(messages, 1)?.file, file); // an edit changes the text only
  apply(messages, item({seq: 5, kind: 'delete', ref: 1, content: null}));
  assert.equal(find(messages, 1)?.file, null);
});

test('a history message counts the messages its file shares; without a file it is none', () => {
  const file = {blob: 'b'.repeat(22), key: 'k'.repeat(43), iv: 'i'.repeat(16), name: 'history.json', type: 'application/json', size: 10, sha256: 's'.repeat(43)};
  const base = {kind: 'message', user: 'olga', device: 'd', at: 1, rel: null, ref: null, problem: null};
  const messages = [];
  apply(messages, {...base, seq: 5, content: {t: 'history', body: '', count: 3, file}});
  apply(messages, {...base, seq: 6, content: {t: 'history', body: '', count: 3}});
  apply(messages, {...base, seq: 7, content: {t: 'history', body: '', count: -1, file}});
  assert.equal(messages[0].history, 3);
  assert.equal(messages[1].history, undefined);
  assert.equal(messages[2].history, undefined);
});
