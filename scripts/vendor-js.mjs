// Copies the npm packages the browser client runs from node_modules into
// src/rathaus/web/static/vendor/, as native ES modules that load with no bundler and no import map:
// - only the files reachable from the entry points below (static imports, re-exports and dynamic
//   imports with a string literal, found by TypeScript's own pre-processor, so that comments and
//   strings are never taken for imports);
// - every bare specifier ("@hpke/core") rewritten to the relative path of the vendored file, found
//   through the package's "exports" (conditions browser, import, default);
// - a dynamic import of a package that is not installed (an optional peer dependency, such as a
//   post-quantum ciphersuite we do not use) replaced by a rejected promise: the library reports
//   the missing dependency as it would, and the browser never requests a URL that does not exist;
//   a static import of one fails the script;
// - source-map comments dropped (the maps are not copied), each package's licence copied, and
//   next to each entry an `index.d.ts` that re-exports the package's own types from node_modules
//   (so that `tsc` checks our wrapper against the library's types and never type-checks the
//   vendored JavaScript).
// The output is committed (see docs/e2ee.md): `make run` needs no Node.js, and a test
// (tests/js/vendor.test.mjs) runs this script into a temporary folder and fails if the committed
// copy differs. After changing a version in package.json: `npm install --save-exact`, then
// `make vendor`.
//
// Usage: node scripts/vendor-js.mjs [--out DIR] [--node-modules DIR]

import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_OUT = path.join(ROOT, 'src/rathaus/web/static/vendor');

/**
 * The packages the browser imports, and the exports of each that it imports. `./privateMessage.js`
 * of ts-mls is not part of its index: `js/chat/mls.js` needs its `decryptSenderData` to tell who
 * sent an application message (ts-mls 1.x does not return the sender).
 */
export const ENTRIES = [{name: 'ts-mls', subpath: '.'}, {name: 'ts-mls', subpath: './privateMessage.js'}];

const CONDITIONS = ['browser', 'import', 'default'];
const LICENCE_FILES = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'LICENCE', 'COPYING'];

/**
 * @typedef {{name: string, dir: string, version: string, license: string}} Package
 * @typedef {{source: string, pkg: Package}} Module
 */

class VendorError extends Error {}

/**
 * The file an "exports" target leads to, or undefined.
 * @param {unknown} target
 * @param {string} star what a `*` in the matching key stood for
 * @returns {string | undefined}
 */
function exportTarget(target, star) {
  if (typeof target === 'string') return target.replaceAll('*', star);
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = exportTarget(t, star);
      if (found) return found;
    }
    return undefined;
  }
  if (target && typeof target === 'object') {
    for (const [condition, value] of Object.entries(target)) {
      if (CONDITIONS.includes(condition)) {
        const found = exportTarget(value, star);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/**
 * The file of `pkg` that `subpath` ("." or "./x.js") names, by the package's "exports" (or, with
 * none, "module", "main" or the path itself).
 * @param {Package} pkg
 * @param {Record<string, any>} manifest
 * @param {string} subpath
 */
function resolveExport(pkg, manifest, subpath) {
  let {exports} = manifest;
  let relative;
  if (exports === undefined) {
    relative = subpath === '.' ? manifest.module ?? manifest.main ?? 'index.js' : subpath;
  } else {
    if (typeof exports === 'string' || Array.isArray(exports)
        || !Object.keys(exports).some((key) => key.startsWith('.'))) exports = {'.': exports};
    if (subpath in exports) relative = exportTarget(exports[subpath], '');
    else {
      for (const [key, value] of Object.entries(exports)) {
        const star = key.indexOf('*');
        if (star < 0) continue;
        const [prefix, suffix] = [key.slice(0, star), key.slice(star + 1)];
        if (subpath.startsWith(prefix) && subpath.endsWith(suffix) && subpath.length >= key.length - 1) {
          relative = exportTarget(value, subpath.slice(prefix.length, subpath.length - suffix.length));
          if (relative) break;
        }
      }
    }
  }
  if (!relative) throw new VendorError(`${pkg.name} does not export ${subpath}`);
  const file = path.resolve(pkg.dir, relative);
  if (!fs.existsSync(file)) throw new VendorError(`${pkg.name}: ${subpath} leads to a missing file ${file}`);
  return file;
}

/**
 * The package `name` as seen from `fromDir` (Node's lookup: node_modules folders upwards), or
 * undefined where it is not installed.
 * @param {string} name
 * @param {string} fromDir
 * @param {string} nodeModules the outermost node_modules
 * @returns {{pkg: Package, manifest: Record<string, any>} | undefined}
 */
function findPackage(name, fromDir, nodeModules) {
  const top = path.dirname(nodeModules);
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    const manifestFile = path.join(candidate, 'package.json');
    if (fs.existsSync(manifestFile)) {
      const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
      return {pkg: {name, dir: candidate, version: manifest.version, license: manifest.license}, manifest};
    }
    if (dir === top || dir === path.dirname(dir)) return undefined;
  }
}

/** @param {string} specifier */
function splitBare(specifier) {
  const parts = specifier.split('/');
  const count = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, count).join('/');
  const rest = parts.slice(count).join('/');
  return {name, subpath: rest ? `./${rest}` : '.'};
}

/**
 * The span of the whole `import("…")` expression around a specifier at [quote, quote + length + 2).
 * @param {string} text
 * @param {number} quote the index of the opening quote
 * @param {number} length the specifier's length
 */
function dynamicImportSpan(text, quote, length) {
  let start = quote - 1;
  while (start >= 0 && /\s/.test(text[start])) start--;
  if (text[start] !== '(') return undefined;
  start--;
  while (start >= 0 && /\s/.test(text[start])) start--;
  if (text.slice(start - 5, start + 1) !== 'import') return undefined;
  let end = quote + length + 2;
  while (end < text.length && /\s/.test(text[end])) end++;
  if (text[end] !== ')') return undefined;
  return [start - 5, end + 1];
}

/** @param {string} from @param {string} to */
function relativeSpecifier(from, to) {
  const rel = path.relative(path.dirname(from), to).split(path.sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/**
 * Vendors ENTRIES from `nodeModules` into `out` (emptied first).
 * @param {{out?: string, nodeModules?: string}} [options]
 * @returns {{packages: Package[], files: number, bytes: number}}
 */
export function vendor(options = {}) {
  const out = path.resolve(options.out ?? DEFAULT_OUT);
  const nodeModules = path.resolve(options.nodeModules ?? path.join(ROOT, 'node_modules'));
  /** @type {Map<string, Package>} */
  const packages = new Map();
  /** @type {Map<string, Module>} source file -> its package */
  const modules = new Map();
  /** @type {{file: string, pkg: Package}[]} */
  const queue = [];
  /** @type {Map<string, string>} */
  const outputs = new Map();

  /** @param {Package} pkg */
  const outFile = (pkg, file) => path.join(out, pkg.name, path.relative(pkg.dir, file));

  /** @param {Package} pkg */
  const usePackage = (pkg) => {
    const known = packages.get(pkg.name);
    if (known && known.dir !== pkg.dir) {
      throw new VendorError(`two copies of ${pkg.name} (${known.dir}, ${pkg.dir}): dedupe node_modules first`);
    }
    packages.set(pkg.name, pkg);
  };
  /** @param {string} file @param {Package} pkg */
  const enqueue = (file, pkg) => {
    if (!modules.has(file)) {
      modules.set(file, {source: file, pkg});
      queue.push({file, pkg});
    }
  };

  /** @type {{file: string, pkg: Package, subpath: string}[]} */
  const entryFiles = [];
  for (const entry of ENTRIES) {
    const found = findPackage(entry.name, nodeModules, nodeModules);
    if (!found) throw new VendorError(`${entry.name} is not installed in ${nodeModules}: run npm ci`);
    usePackage(found.pkg);
    const file = resolveExport(found.pkg, found.manifest, entry.subpath);
    entryFiles.push({file, pkg: found.pkg, subpath: entry.subpath});
    enqueue(file, found.pkg);
  }

  while (queue.length > 0) {
    const {file, pkg} = /** @type {{file: string, pkg: Package}} */ (queue.shift());
    const text = fs.readFileSync(file, 'utf8');
    const {importedFiles} = ts.preProcessFile(text, true, true);
    /** @type {{start: number, end: number, text: string}[]} */
    const edits = [];
    for (const ref of importedFiles) {
      const specifier = ref.fileName;
      const quote = ref.pos;
      if (specifier.startsWith('.') || specifier.startsWith('/')) {
        const target = path.resolve(path.dirname(file), specifier);
        if (!target.startsWith(pkg.dir + path.sep)) throw new VendorError(`${file} imports ${specifier} outside its package`);
        if (!fs.existsSync(target)) throw new VendorError(`${file} imports ${specifier}, which does not exist`);
        enqueue(target, pkg);
        continue;
      }
      const {name, subpath} = splitBare(specifier);
      const found = findPackage(name, path.dirname(file), nodeModules);
      if (!found) {
        const span = dynamicImportSpan(text, quote, specifier.length);
        if (!span) throw new VendorError(`${file} imports ${specifier} statically, which is not installed`);
        edits.push({start: span[0], end: span[1],
          text: `Promise.reject(new Error(${JSON.stringify(`${specifier} is not vendored`)}))`});
        continue;
      }
      usePackage(found.pkg);
      const target = resolveExport(found.pkg, found.manifest, subpath);
      enqueue(target, found.pkg);
      edits.push({start: quote + 1, end: quote + 1 + specifier.length,
        text: relativeSpecifier(outFile(pkg, file), outFile(found.pkg, target))});
    }
    let result = text;
    for (const edit of edits.sort((a, b) => b.start - a.start)) {
      result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
    }
    result = result.replace(/^\/\/# sourceMappingURL=.*$\n?/gm, '');
    outputs.set(outFile(pkg, file), result);
  }

  for (const {file, pkg, subpath} of entryFiles) {
    const dts = outFile(pkg, file).replace(/\.m?js$/, '.d.ts');
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    outputs.set(dts, `// For tsc only (written by scripts/vendor-js.mjs): the types of the ${pkg.name} that\n`
      + `// package.json pins, from node_modules; browsers load the JavaScript beside this file.\n`
      + `export * from ${JSON.stringify(specifier)};\n`);
  }
  const rows = [...packages.values()].sort((a, b) => a.name.localeCompare(b.name));
  for (const pkg of rows) {
    const licence = LICENCE_FILES.map((n) => path.join(pkg.dir, n)).find((f) => fs.existsSync(f));
    if (!licence) throw new VendorError(`${pkg.name} ships no licence file`);
    outputs.set(path.join(out, pkg.name, 'LICENSE'), fs.readFileSync(licence, 'utf8'));
  }
  let bytes = 0;
  for (const text of outputs.values()) bytes += Buffer.byteLength(text);
  const counts = new Map(rows.map((p) => [p.name, 0]));
  const sizes = new Map(rows.map((p) => [p.name, 0]));
  for (const [file, text] of outputs) {
    const pkg = rows.find((p) => file.startsWith(path.join(out, p.name) + path.sep));
    if (pkg && file.endsWith('.js')) {
      counts.set(pkg.name, (counts.get(pkg.name) ?? 0) + 1);
      sizes.set(pkg.name, (sizes.get(pkg.name) ?? 0) + Buffer.byteLength(text));
    }
  }
  outputs.set(path.join(out, 'README.md'), [
    '# Vendored browser packages',
    '',
    'Written by `scripts/vendor-js.mjs` (`make vendor`) from `node_modules`; do not edit. Served under',
    '`/static/vendor/`; why and how: `docs/e2ee.md`.',
    '',
    '| package | version | licence | modules | bytes |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((p) => `| \`${p.name}\` | ${p.version} | ${p.license} | ${counts.get(p.name)} | ${sizes.get(p.name)} |`),
    '',
  ].join('\n'));

  fs.rmSync(out, {recursive: true, force: true});
  for (const [file, text] of outputs) {
    fs.mkdirSync(path.dirname(file), {recursive: true});
    fs.writeFileSync(file, text);
  }
  return {packages: rows, files: outputs.size, bytes};
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  /** @param {string} flag */
  const option = (flag) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  try {
    const result = vendor({out: option('--out'), nodeModules: option('--node-modules')});
    for (const p of result.packages) process.stdout.write(`${p.name}@${p.version} (${p.license})\n`);
    process.stdout.write(`${result.files} files, ${result.bytes} bytes\n`);
  } catch (error) {
    if (!(error instanceof VendorError)) throw error;
    process.stderr.write(`vendor-js: ${error.message}\n`);
    process.exit(1);
  }
}
