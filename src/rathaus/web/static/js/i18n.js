// Language choice and message lookup. German is the default; English if the browser prefers it;
// `?lang=de` / `?lang=en` forces a language.

import de from '../i18n/de.js';
import en from '../i18n/en.js';

/** @typedef {import('../i18n/de.js').MessageKey} MessageKey */
/** @typedef {'de' | 'en'} Language */

/** @type {Record<Language, import('../i18n/de.js').Catalog>} */
const CATALOGS = { de, en };

/** @type {Language} */
let current = 'de';

/**
 * @param {string} search location.search
 * @param {readonly string[]} preferred navigator.languages
 * @returns {Language}
 */
export function detectLanguage(search, preferred) {
  const forced = new URLSearchParams(search).get('lang');
  if (forced === 'de' || forced === 'en') return forced;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    if (primary === 'de' || primary === 'en') return primary;
  }
  return 'de';
}

/** @param {Language} lang */
export function setLanguage(lang) {
  current = lang;
  document.documentElement.lang = lang;
}

/** @returns {Language} */
export function language() {
  return current;
}

/** @param {string} key @returns {key is MessageKey} */
export function hasKey(key) {
  return Object.prototype.hasOwnProperty.call(CATALOGS[current], key);
}

/**
 * Looks a message up and fills {placeholders} (values are inserted as plain text; callers
 * always render with textContent or attributes, never as HTML).
 * @param {MessageKey} key
 * @param {Record<string, string | number>} [params]
 * @returns {string}
 */
export function t(key, params) {
  const text = CATALOGS[current][key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Localized text for a server error code. @param {string} code @returns {string} */
export function errorText(code) {
  const key = `error.${code}`;
  return hasKey(key) ? t(key) : t('error.unknown');
}

/**
 * Fills every element below root that carries data-i18n (textContent), data-i18n-label
 * (aria-label) or data-i18n-alt (alt).
 * @param {ParentNode} root
 */
export function translate(root) {
  for (const el of Array.from(root.querySelectorAll('[data-i18n]'))) {
    const key = el.getAttribute('data-i18n') ?? '';
    if (hasKey(key)) el.textContent = t(key);
  }
  for (const el of Array.from(root.querySelectorAll('[data-i18n-label]'))) {
    const key = el.getAttribute('data-i18n-label') ?? '';
    if (hasKey(key)) el.setAttribute('aria-label', t(key));
  }
}
