// What every page starts from (the JSON block the server writes into it: the sign-in, the
// sign-in methods, the installation's name), and the calls to the HTTP API that carry the
// session's CSRF token.

import { t, hasKey } from './i18n.js';

/** @typedef {{username: string, display_name: string, role: string}} User */
/** @typedef {{user: User, csrf_token: string}} Session */
/** @typedef {{password: boolean, oidc: boolean}} Methods */
/** @typedef {{slug: string, name: string, has_password: boolean}} RoomState */
/** @typedef {{session: Session | null, methods: Methods, brand: {name: string}, room: RoomState | null}} PageState */

/** @param {unknown} v @returns {Record<string, unknown> | null} */
function record(v) {
  return typeof v === 'object' && v !== null ? /** @type {Record<string, unknown>} */ (v) : null;
}

/** @param {unknown} v @returns {Session | null} */
export function parseSession(v) {
  const body = record(v);
  const user = record(body?.user);
  if (!body || !user || typeof body.csrf_token !== 'string') return null;
  const username = typeof user.username === 'string' ? user.username : '';
  const display = typeof user.display_name === 'string' && user.display_name ? user.display_name : username;
  return {
    user: { username, display_name: display, role: typeof user.role === 'string' ? user.role : '' },
    csrf_token: body.csrf_token,
  };
}

/** @param {string} text the JSON block's text @returns {PageState} */
export function parsePageState(text) {
  /** @type {unknown} */
  let value = null;
  try {
    value = JSON.parse(text);
  } catch {
    // an empty or broken block: nobody is signed in, nothing to sign in with
  }
  const body = record(value);
  const methods = record(body?.methods);
  const brand = record(body?.brand);
  const room = record(body?.room);
  return {
    session: parseSession(body?.session),
    methods: { password: methods?.password === true, oidc: methods?.oidc === true },
    brand: { name: typeof brand?.name === 'string' && brand.name ? brand.name : 'Rathaus' },
    room: room && typeof room.slug === 'string' && typeof room.name === 'string'
      ? { slug: room.slug, name: room.name, has_password: room.has_password === true }
      : null,
  };
}

/** @type {PageState | null} */
let state = null;

/** This page's starting state (read once from #page-state). @returns {PageState} */
export function pageState() {
  state ??= parsePageState(document.getElementById('page-state')?.textContent ?? '');
  return state;
}

/** Localized text for a sign-in error code. @param {string} code @returns {string} */
export function signInErrorText(code) {
  const key = `signin.error.${code}`;
  return hasKey(key) ? t(/** @type {import('./i18n.js').MessageKey} */ (key)) : t('signin.error.unknown');
}

/** @param {Response} response @returns {Promise<string>} the error code of an error answer */
export async function errorCode(response) {
  try {
    const body = await response.json();
    const detail = record(body) ? (body.error ?? body.detail ?? body) : null;
    const code = record(detail) ? detail.code : null;
    if (typeof code === 'string') return code;
  } catch {
    // not JSON
  }
  if (response.status === 429) return 'locked';
  if (response.status === 401) return 'authentication_failed';
  return 'unknown';
}

/**
 * Signs in with user name and password.
 * @param {string} username @param {string} password
 * @returns {Promise<{session: Session | null, error: string | null}>}
 */
export async function signIn(username, password) {
  try {
    const response = await fetch('/api/session', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!response.ok) return { session: null, error: await errorCode(response) };
    const session = parseSession(await response.json());
    return session ? { session, error: null } : { session: null, error: 'unknown' };
  } catch {
    return { session: null, error: 'unknown' };
  }
}

/** @param {Session} session @returns {Promise<string | null>} an error code, or null when done */
export async function signOut(session) {
  try {
    const response = await fetch('/api/session', {
      method: 'DELETE',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': session.csrf_token },
    });
    return response.ok || response.status === 401 ? null : await errorCode(response);
  } catch {
    return 'unknown';
  }
}

/**
 * A call to the HTTP API as the signed-in member: JSON both ways, the CSRF token on every
 * request that changes something.
 * @param {Session} session @param {string} path @param {string} [method] @param {unknown} [body]
 * @returns {Promise<{ok: boolean, status: number, body: any, code: string | null}>}
 */
export async function api(session, path, method = 'GET', body = undefined) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = session.csrf_token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    const response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) return { ok: false, status: response.status, body: null, code: await errorCode(response) };
    const text = await response.text();
    return { ok: true, status: response.status, body: text ? JSON.parse(text) : null, code: null };
  } catch {
    return { ok: false, status: 0, body: null, code: 'unknown' };
  }
}

/** Where to go after signing in: a path on this site only, never another site.
 * @param {string | null} next @returns {string} */
export function safeNext(next) {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}
