// The vendored browser packages (src/rathaus/web/static/vendor, committed) are exactly what
// scripts/vendor-js.mjs makes from node_modules, i.e. from the versions package-lock.json pins;
// they import nothing by a bare specifier (a browser without an import map could not load it); and
// none compiles code at run time (eval, Function, WebAssembly), which our CSP (script-src 'self',
// no 'unsafe-eval', no 'wasm-unsafe-eval') would refuse.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {vendor} from '../../scripts/vendor-js.mjs';

const COMMITTED = new URL('../../src/rathaus/web/static/vendor/', import.meta.url).pathname;

/** @param {string} root @returns {Map<string, Buffer>} */
function tree(root) {
  const files = new Map();
  for (const entry of fs.readdirSync(root, {recursive: true, withFileTypes: true})) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath ?? entry.path, entry.name);
    files.set(path.relative(root, file), fs.readFileSync(file));
  }
  return files;
}

test('the committed vendor folder is what `make vendor` makes from node_modules', (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'rathaus-vendor-'));
  t.after(() => fs.rmSync(out, {recursive: true, force: true}));
  vendor({out});
  const [made, committed] = [tree(out), tree(COMMITTED)];
  assert.deepEqual([...committed.keys()].sort(), [...made.keys()].sort(), 'the same files (run make vendor)');
  const differing = [...made].filter(([name, bytes]) => !bytes.equals(committed.get(name) ?? Buffer.alloc(0)));
  assert.deepEqual(differing.map(([name]) => name), [], 'the same contents (run make vendor)');
});

test('no vendored module imports a bare specifier', async () => {
  const ts = (await import('typescript')).default;
  for (const [name, bytes] of tree(COMMITTED)) {
    if (!name.endsWith('.js')) continue;
    const {importedFiles} = ts.preProcessFile(bytes.toString('utf8'), true, true);
    for (const ref of importedFiles) {
      assert.match(ref.fileName, /^\.\.?\//, `${name} imports ${ref.fileName}`);
    }
  }
});

test('no vendored module compiles code at run time (our CSP would refuse it)', () => {
  for (const [name, bytes] of tree(COMMITTED)) {
    if (!name.endsWith('.js')) continue;
    const source = bytes.toString('utf8');
    for (const pattern of [/\beval\s*\(/, /\bnew\s+Function\s*\(/, /\bFunction\s*\(\s*['"`]/, /\bWebAssembly\s*\./]) {
      assert.doesNotMatch(source, pattern, name);
    }
  }
});
