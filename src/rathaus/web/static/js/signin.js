// The account line of the pre-join screen: "Signed in as …" with "Sign out", or a "Sign in" link
// to the sign-in page (which comes back here). Names from the server are only ever set through
// textContent.

import { language, t } from './i18n.js';
import { pageState, signInErrorText, signOut } from './session.js';

/** @typedef {import('./session.js').Session} Session */

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

/** The sign-in page's address, coming back to ``here``. @param {string} here @returns {string} */
export function signInHref(here) {
  return `/signin?${new URLSearchParams({ next: here, lang: language() })}`;
}

export class SignIn {
  constructor() {
    this.root = byId('account');
    this.signedInBox = byId('signed-in');
    this.signedInAs = byId('signed-in-as');
    this.signOutButton = /** @type {HTMLButtonElement} */ (byId('signout-button'));
    this.signInLine = byId('signin-line');
    this.signInLink = /** @type {HTMLAnchorElement} */ (byId('signin-link'));
    this.accountError = byId('account-error');
    /** @type {Session | null} */
    this.session = null;
    this.methods = { password: false, oidc: false };
    /** Called after signing out (not for the initial state). @type {(s: Session | null) => void} */
    this.onChange = () => {};
    /** Called once the initial state is known. @type {(s: Session | null) => void} */
    this.onReady = () => {};
    this.signOutButton.addEventListener('click', () => this.signOut());
  }

  /** Takes the page's sign-in state; shows `?signin_error=` (back from the OpenID provider). */
  load() {
    const params = new URLSearchParams(location.search);
    const failed = params.get('signin_error');
    if (failed) {
      this.accountError.textContent = signInErrorText(failed);
      params.delete('signin_error');
      const query = params.toString();
      history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}${location.hash}`);
    }
    const state = pageState();
    this.methods = state.methods;
    this.session = state.session;
    this.render();
    this.onReady(this.session);
  }

  render() {
    const signedIn = this.session !== null;
    const canSignIn = this.methods.password || this.methods.oidc;
    this.root.hidden = !signedIn && !canSignIn && !this.accountError.textContent;
    this.signedInBox.hidden = !signedIn;
    this.signedInAs.textContent = signedIn ? t('signin.signedInAs', { name: this.session?.user.display_name ?? '' }) : '';
    this.signInLine.hidden = signedIn || !canSignIn;
    this.signInLink.href = signInHref(location.pathname + location.search);
  }

  async signOut() {
    const session = this.session;
    if (!session) return;
    const error = await signOut(session);
    if (error) {
      this.accountError.textContent = signInErrorText(error);
      return;
    }
    this.session = null;
    this.accountError.textContent = '';
    this.render();
    this.onChange(null);
    if (!this.signInLine.hidden) this.signInLink.focus();
  }
}
