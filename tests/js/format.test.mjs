// The chat's formatting (js/chat/format.js): a Markdown subset parsed to plain data, never HTML.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {mentions, parse} from '../../src/rathaus/web/static/js/chat/format.js';

const members = (/** @type {string} */ user) => ['mia', 'olga'].includes(user);

test('bold, italic and code', () => {
  assert.deepEqual(parse('**fett** und *schräg* und _auch_ und `x < y`'), [
    {kind: 'bold', parts: [{kind: 'text', text: 'fett'}]},
    {kind: 'text', text: ' und '},
    {kind: 'italic', parts: [{kind: 'text', text: 'schräg'}]},
    {kind: 'text', text: ' und '},
    {kind: 'italic', parts: [{kind: 'text', text: 'auch'}]},
    {kind: 'text', text: ' und '},
    {kind: 'code', text: 'x < y'},
  ]);
});

test('markup stays text: nothing becomes HTML', () => {
  const parts = parse('<img src=x onerror=alert(1)> <b>nein</b>');
  assert.deepEqual(parts, [{kind: 'text', text: '<img src=x onerror=alert(1)> <b>nein</b>'}]);
});

test('links: http and https only, without trailing punctuation', () => {
  assert.deepEqual(parse('Siehe https://muenchen.de/rathaus. Und javascript:alert(1)'), [
    {kind: 'text', text: 'Siehe '},
    {kind: 'link', text: 'https://muenchen.de/rathaus'},
    {kind: 'text', text: '. Und javascript:alert(1)'},
  ]);
});

test('code blocks keep their lines and take no formatting', () => {
  assert.deepEqual(parse('Vorher\n```\n**a**\nb\n```\nnachher'), [
    {kind: 'text', text: 'Vorher\n'},
    {kind: 'block', text: '**a**\nb'},
    {kind: 'text', text: '\nnachher'},
  ]);
});

test('mentions of members only; an e-mail address is none', () => {
  const parts = parse('@mia bitte, und @tom? mail an olga@example.org', members);
  assert.deepEqual(mentions(parts), ['mia']);
  assert.equal(parts.filter((p) => p.kind === 'mention').length, 1);
  assert.deepEqual(mentions(parse('**@olga**', members)), ['olga']);
});
