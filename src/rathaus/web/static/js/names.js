// Telling apart people of the same name: the first one keeps it, those who came later are
// "Anna (2)", "Anna (3)". Everyone counts in the order the server lists the participants (the
// order they joined), so that all see the same marks. Pure (tests/js/names.test.mjs).

/** The form in which two names count as the same: case, width and spacing aside.
 * @param {string} name @returns {string} */
export function nameKey(name) {
  return name.normalize('NFKC').toLocaleLowerCase().replace(/\s+/gu, ' ').trim();
}

/**
 * @param {{id: string, name: string}[]} people in the order they joined
 * @param {(name: string, n: number) => string} [mark]
 * @returns {Map<string, string>} participant id → the name to show (unique names unchanged)
 */
export function distinctNames(people, mark = (name, n) => `${name} (${n})`) {
  /** @type {Map<string, number>} */
  const count = new Map();
  for (const p of people) count.set(nameKey(p.name), (count.get(nameKey(p.name)) ?? 0) + 1);
  // A mark must not be someone's real name ("Anna (2)" may be in the meeting already).
  const taken = new Set(people.map((p) => nameKey(p.name)));
  /** @type {Map<string, number>} */
  const next = new Map();
  /** @type {Map<string, string>} */
  const labels = new Map();
  for (const p of people) {
    const key = nameKey(p.name);
    if ((count.get(key) ?? 0) < 2 || !next.has(key)) {
      labels.set(p.id, p.name);
      next.set(key, 2);
      continue;
    }
    let n = next.get(key) ?? 2;
    while (taken.has(nameKey(mark(p.name, n)))) n += 1;
    labels.set(p.id, mark(p.name, n));
    taken.add(nameKey(mark(p.name, n)));
    next.set(key, n + 1);
  }
  return labels;
}
