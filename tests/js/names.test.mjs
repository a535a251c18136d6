// Two people of the same name are told apart (names.js); unique names stay as they are.
import {test} from 'node:test';
import assert from 'node:assert/strict';

import {distinctNames, nameKey} from '../../src/rathaus/web/static/js/names.js';

const labels = (/** @type {string[]} */ names) =>
  [...distinctNames(names.map((name, i) => ({id: `p${i}`, name}))).values()];

test('the first keeps the name, later ones are numbered in the order they came', () => {
  assert.deepEqual(labels(['Anna', 'Ben', 'Anna', 'anna']), ['Anna', 'Ben', 'Anna (2)', 'anna (3)']);
  assert.deepEqual(labels(['Anna', 'Ben']), ['Anna', 'Ben']);
  assert.deepEqual(labels([]), []);
});

test('case, width and spacing do not make names different', () => {
  assert.equal(nameKey('  Anna   Meier '), nameKey('anna meier'));
  assert.equal(nameKey('Ａｎｎａ'), nameKey('Anna'));
  assert.deepEqual(labels(['Anna Meier', 'anna  meier']), ['Anna Meier', 'anna  meier (2)']);
});

test("a mark is never someone else's real name", () => {
  assert.deepEqual(labels(['Anna', 'Anna (2)', 'Anna']), ['Anna', 'Anna (2)', 'Anna (3)']);
});

test('the marks follow the order given, the same for everyone', () => {
  const people = [{id: 'x', name: 'Anna'}, {id: 'y', name: 'Anna'}];
  assert.equal(distinctNames(people).get('y'), 'Anna (2)');
  assert.equal(distinctNames(people.toReversed()).get('x'), 'Anna (2)');
});
