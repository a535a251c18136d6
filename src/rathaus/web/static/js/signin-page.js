// The sign-in page (/signin?next=…): user name and password, and/or the organisation's OpenID
// provider; back to `next` (a path on this site) once signed in.

import { detectLanguage, setLanguage, t, translate } from './i18n.js';
import { pageState, safeNext, signIn, signInErrorText } from './session.js';

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

class SignInPage {
  constructor() {
    setLanguage(detectLanguage(location.search, navigator.languages ?? [navigator.language]));
    translate(document);
    const state = pageState();
    document.title = `${t('signin.heading')} – ${state.brand.name}`;
    const params = new URLSearchParams(location.search);
    this.next = safeNext(params.get('next'));
    this.form = /** @type {HTMLFormElement} */ (byId('signin-form'));
    this.username = /** @type {HTMLInputElement} */ (byId('username-input'));
    this.password = /** @type {HTMLInputElement} */ (byId('password-input'));
    this.button = /** @type {HTMLButtonElement} */ (byId('signin-button'));
    this.error = byId('signin-error');
    this.busy = false;

    const failed = params.get('signin_error');
    if (failed) byId('account-error').textContent = signInErrorText(failed);
    const { password, oidc } = state.methods;
    this.form.hidden = !password;
    byId('oidc-line').hidden = !oidc;
    byId('signin-none').hidden = password || oidc;
    /** @type {HTMLAnchorElement} */ (byId('oidc-link')).href =
      `/auth/oidc/start?${new URLSearchParams({ next: this.next })}`;

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    for (const input of [this.username, this.password]) {
      input.addEventListener('input', () => {
        if (input.getAttribute('aria-invalid') === 'true') this.showError(null);
      });
    }
    if (password) this.username.focus();
  }

  /** @param {string | null} text */
  showError(text) {
    this.error.textContent = text ?? '';
    for (const input of [this.username, this.password]) {
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  async submit() {
    if (this.busy) return;
    const username = this.username.value.trim();
    const password = this.password.value;
    if (!username || !password) {
      this.showError(t('signin.missing'));
      (username ? this.password : this.username).focus();
      return;
    }
    this.showError(null);
    this.busy = true;
    this.button.disabled = true;
    this.button.textContent = t('signin.busy');
    const { session, error } = await signIn(username, password);
    if (session) {
      location.assign(this.next);
      return;
    }
    this.busy = false;
    this.button.disabled = false;
    this.button.textContent = t('signin.submit');
    this.showError(signInErrorText(error ?? 'unknown'));
    this.password.focus();
  }
}

new SignInPage();
