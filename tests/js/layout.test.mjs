// The layout rules (layout.js): who is large in speaker view, what a page of the grid or the
// strip holds, and whose video is received.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {arrange, focusOf, hasStage, pageSize, wantsVideo} from '../../src/rathaus/web/static/js/layout.js';

/** @param {Partial<import('../../src/rathaus/web/static/js/layout.js').Scene>} over */
const scene = (over = {}) => ({
  order: ['me', 'ben', 'carla', 'dora'], self: 'me', screens: 0, mode: 'grid', pinned: null, speaker: null, ...over,
});

test('speaker view shows the pinned one, else the one heard last, else the first of the others', () => {
  assert.equal(focusOf(scene()), 'ben');
  assert.equal(focusOf(scene({speaker: 'carla'})), 'carla');
  assert.equal(focusOf(scene({speaker: 'carla', pinned: 'dora'})), 'dora');
  assert.equal(focusOf(scene({pinned: 'gone', speaker: 'gone'})), 'ben'); // left meanwhile
  assert.equal(focusOf(scene({order: ['me']})), 'me'); // alone
  assert.equal(focusOf(scene({order: []})), null);
});

test('speaker view puts the one in focus on the stage and the others in the strip', () => {
  const now = arrange(scene({mode: 'speaker', speaker: 'carla'}), 0, 6);
  assert.deepEqual(now.stage, ['carla']);
  assert.deepEqual(now.shown, ['me', 'ben', 'dora']);
  assert.equal(now.strip, true);
  // The grid has no stage.
  const grid = arrange(scene({speaker: 'carla'}), 0, 9);
  assert.deepEqual(grid.stage, []);
  assert.deepEqual(grid.shown, ['me', 'ben', 'carla', 'dora']);
  assert.equal(grid.strip, false);
});

test('a shared screen takes the stage; the pinned one leads the strip beside it', () => {
  const now = arrange(scene({mode: 'speaker', screens: 1, pinned: 'dora'}), 0, 6);
  assert.deepEqual(now.stage, []);
  assert.deepEqual(now.shown, ['dora', 'me', 'ben', 'carla']);
  assert.equal(now.strip, true);
  assert.equal(hasStage(scene({screens: 1})), true);
  assert.equal(hasStage(scene()), false);
});

test('tiles beyond a page are paged; the page asked for stays within the pages', () => {
  const order = ['me', 'a', 'b', 'c', 'd', 'e'];
  const first = arrange(scene({order}), 0, 4);
  assert.deepEqual([first.shown, first.page, first.pages], [['me', 'a', 'b', 'c'], 0, 2]);
  const second = arrange(scene({order}), 1, 4);
  assert.deepEqual([second.shown, second.page], [['d', 'e'], 1]);
  assert.equal(arrange(scene({order}), 7, 4).page, 1); // someone left: the last page
  assert.equal(arrange(scene({order}), -1, 4).page, 0);
  assert.equal(arrange(scene({order: []}), 0, 4).pages, 1);
});

test('a page holds nine tiles on a desktop, four on a phone, and the strip what its width fits', () => {
  assert.equal(pageSize(false, 1280, false), 9);
  assert.equal(pageSize(false, 390, true), 4);
  assert.equal(pageSize(true, 374, true), 2);
  assert.equal(pageSize(true, 1264, false), 6);
  assert.equal(pageSize(true, 100, true), 1);
});

test('video only for tiles shown, none in audio only, and only the focus and screens in speaker-only', () => {
  const shown = {participant: 'ben', kind: /** @type {const} */ ('camera'), shown: true};
  assert.equal(wantsVideo(shown, 'off', 'carla'), true);
  assert.equal(wantsVideo({...shown, shown: false}, 'off', 'carla'), false);
  assert.equal(wantsVideo(shown, 'audio', 'ben'), false);
  assert.equal(wantsVideo({...shown, kind: 'screen'}, 'audio', 'carla'), false);
  assert.equal(wantsVideo(shown, 'speaker', 'carla'), false);
  assert.equal(wantsVideo(shown, 'speaker', 'ben'), true);
  assert.equal(wantsVideo({...shown, kind: 'screen'}, 'speaker', 'carla'), true);
});
