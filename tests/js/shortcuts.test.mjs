import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortcutFor } from '../../src/rathaus/web/static/js/shortcuts.js';

const key = (k, more = {}) => ({ key: k, ctrlKey: false, altKey: false, metaKey: false, repeat: false, ...more });

test('M, V, H and ? are the shortcuts, in either case', () => {
  assert.equal(shortcutFor(key('m'), { tagName: 'BODY' }), 'mic');
  assert.equal(shortcutFor(key('M'), { tagName: 'BUTTON' }), 'mic');
  assert.equal(shortcutFor(key('v'), null), 'camera');
  assert.equal(shortcutFor(key('h'), { tagName: 'DIV' }), 'hand');
  assert.equal(shortcutFor(key('?'), { tagName: 'DIV' }), 'help');
  assert.equal(shortcutFor(key('x'), { tagName: 'DIV' }), null);
});

test('no shortcut while typing', () => {
  for (const tagName of ['INPUT', 'TEXTAREA', 'SELECT', 'input']) {
    assert.equal(shortcutFor(key('m'), { tagName }), null, tagName);
  }
  assert.equal(shortcutFor(key('m'), { tagName: 'DIV', isContentEditable: true }), null);
});

test('no shortcut with a modifier or a held key', () => {
  assert.equal(shortcutFor(key('m', { ctrlKey: true }), null), null);
  assert.equal(shortcutFor(key('v', { altKey: true }), null), null);
  assert.equal(shortcutFor(key('h', { metaKey: true }), null), null);
  assert.equal(shortcutFor(key('m', { repeat: true }), null), null);
});
