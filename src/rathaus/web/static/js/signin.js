// Signing in on the pre-join screen: "Signed in as …" with "Sign out", or a "Sign in"
// disclosure (user name and password, and/or the organisation's OpenID provider).
// Names from the server are only ever set through textContent.

import { t, hasKey } from './i18n.js';

/** @typedef {{username: string, display_name: string, role: string}} User */
/** @typedef {{user: User, csrf_token: string}} Session */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** @param {unknown} v @returns {Session | null} */
function parseSession(v) {
  if (typeof v !== 'object' || v === null) return null;
  const body = /** @type {Record<string, unknown>} */ (v);
  const user = /** @type {Record<string, unknown> | null} */ (
    typeof body.user === 'object' && body.user !== null ? body.user : null);
  if (!user || typeof body.csrf_token !== 'string') return null;
  const username = typeof user.username === 'string' ? user.username : '';
  const display = typeof user.display_name === 'string' && user.display_name ? user.display_name : username;
  return {
    user: { username, display_name: display, role: typeof user.role === 'string' ? user.role : '' },
    csrf_token: body.csrf_token,
  };
}

/** Localized text for a sign-in error code. @param {string} code @returns {string} */
export function signInErrorText(code) {
  const key = `signin.error.${code}`;
  return hasKey(key) ? t(/** @type {import('./i18n.js').MessageKey} */ (key)) : t('signin.error.unknown');
}

/** @param {Response} response @returns {Promise<string>} the error code of an error answer */
async function errorCode(response) {
  try {
    const body = await response.json();
    const detail = body && typeof body === 'object' ? (body.error ?? body.detail ?? body) : null;
    const code = detail && typeof detail === 'object' ? detail.code : null;
    if (typeof code === 'string') return code;
  } catch {
    // not JSON
  }
  if (response.status === 429) return 'locked';
  if (response.status === 401) return 'authentication_failed';
  return 'unknown';
}

export class SignIn {
  constructor() {
    this.root = byId('account');
    this.signedInBox = byId('signed-in');
    this.signedInAs = byId('signed-in-as');
    this.signOutButton = /** @type {HTMLButtonElement} */ (byId('signout-button'));
    this.details = /** @type {HTMLDetailsElement} */ (byId('signin'));
    this.form = /** @type {HTMLFormElement} */ (byId('signin-form'));
    this.username = /** @type {HTMLInputElement} */ (byId('username-input'));
    this.password = /** @type {HTMLInputElement} */ (byId('password-input'));
    this.button = /** @type {HTMLButtonElement} */ (byId('signin-button'));
    this.error = byId('signin-error');
    this.accountError = byId('account-error');
    this.oidcLine = byId('oidc-line');
    this.oidcLink = /** @type {HTMLAnchorElement} */ (byId('oidc-link'));
    /** @type {Session | null} */
    this.session = null;
    this.methods = { password: false, oidc: false };
    this.busy = false;
    /** Called after signing in or out (not for the initial state). @type {(s: Session | null) => void} */
    this.onChange = () => {};
    /** Called once the initial state is known. @type {(s: Session | null) => void} */
    this.onReady = () => {};

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.signIn();
    });
    this.signOutButton.addEventListener('click', () => this.signOut());
    for (const input of [this.username, this.password]) {
      input.addEventListener('input', () => {
        if (input.getAttribute('aria-invalid') === 'true') this.showError(null);
      });
    }
  }

  /** Reads the sign-in methods and the current session; shows `?signin_error=`. */
  async load() {
    const params = new URLSearchParams(location.search);
    const failed = params.get('signin_error');
    if (failed) {
      this.accountError.textContent = signInErrorText(failed);
      params.delete('signin_error');
      const query = params.toString();
      history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    }
    const [methods, session] = await Promise.all([this.fetchMethods(), this.fetchSession()]);
    this.methods = methods;
    this.session = session;
    this.render();
    this.onReady(session);
  }

  /** @returns {Promise<{password: boolean, oidc: boolean}>} */
  async fetchMethods() {
    try {
      const response = await fetch('/api/auth/methods', { credentials: 'same-origin' });
      if (!response.ok) return { password: false, oidc: false };
      const body = await response.json();
      return { password: body?.password === true, oidc: body?.oidc === true };
    } catch {
      return { password: false, oidc: false };
    }
  }

  /** @returns {Promise<Session | null>} */
  async fetchSession() {
    try {
      const response = await fetch('/api/session', { credentials: 'same-origin' });
      return response.ok ? parseSession(await response.json()) : null;
    } catch {
      return null;
    }
  }

  render() {
    const signedIn = this.session !== null;
    const canSignIn = this.methods.password || this.methods.oidc;
    this.root.hidden = !signedIn && !canSignIn && !this.accountError.textContent;
    this.signedInBox.hidden = !signedIn;
    this.signedInAs.textContent = signedIn ? t('signin.signedInAs', { name: this.session?.user.display_name ?? '' }) : '';
    this.details.hidden = signedIn || !canSignIn;
    this.form.hidden = !this.methods.password;
    this.oidcLine.hidden = !this.methods.oidc;
    this.oidcLink.href = `/auth/oidc/start?next=${encodeURIComponent(location.pathname + location.search)}`;
  }

  /** @param {string | null} text */
  showError(text) {
    this.error.textContent = text ?? '';
    for (const input of [this.username, this.password]) {
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  /** @param {boolean} busy */
  setBusy(busy) {
    this.busy = busy;
    this.button.disabled = busy;
    this.button.textContent = t(busy ? 'signin.busy' : 'signin.submit');
  }

  async signIn() {
    if (this.busy) return;
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this.showError(t('signin.missing'));
      (username ? this.password : this.username).focus();
      return;
    }
    this.showError(null);
    this.accountError.textContent = '';
    this.setBusy(true);
    try {
      const response = await fetch('/api/session', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      const session = response.ok ? parseSession(await response.json()) : null;
      if (!session) {
        this.showError(signInErrorText(response.ok ? 'unknown' : await errorCode(response)));
        this.password.focus();
        return;
      }
      this.password.value = '';
      this.session = session;
      this.details.open = false;
      this.render();
      this.onChange(session);
      this.signOutButton.focus();
    } catch {
      this.showError(signInErrorText('unknown'));
    } finally {
      this.setBusy(false);
    }
  }

  async signOut() {
    const session = this.session;
    if (!session) return;
    try {
      const response = await fetch('/api/session', {
        method: 'DELETE',
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': session.csrf_token },
      });
      if (!response.ok && response.status !== 401) {
        this.accountError.textContent = signInErrorText(await errorCode(response));
        return;
      }
    } catch {
      this.accountError.textContent = signInErrorText('unknown');
      return;
    }
    this.session = null;
    this.accountError.textContent = '';
    this.render();
    this.onChange(null);
    if (!this.details.hidden) this.details.querySelector('summary')?.focus();
  }
}
