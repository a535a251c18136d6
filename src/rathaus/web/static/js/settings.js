// A room's settings page (/r/<room>/settings), for its owners, co-owners and administrators:
// name and who may enter how, the room password, room roles, and guest links.

import { detectLanguage, errorText, language, setLanguage, t, translate } from './i18n.js';
import { api, pageState } from './session.js';
import { byId, copyText, dateTime, el } from './dom.js';

/** @typedef {import('./session.js').Session} Session */
/** @typedef {{username: string, display_name: string, role: string, since: number}} RoleItem */
/** @typedef {{id: string, url: string, expires_at: number, created_at: number,
 *   created_by: string | null}} LinkItem */
/** @typedef {{slug: string, name: string, guests_allowed: boolean, lobby: boolean,
 *   has_password: boolean, e2ee: boolean, retention_days: number, roles?: RoleItem[]}} Settings */

/** @param {string} role @returns {string} */
function roleName(role) {
  if (role === 'owner') return t('role.owner');
  if (role === 'co_owner') return t('role.co_owner');
  if (role === 'member') return t('role.member');
  return t('role.moderator');
}

class SettingsPage {
  /** @param {Session} session @param {string} slug */
  constructor(session, slug) {
    this.session = session;
    this.slug = slug;
    this.base = `/api/rooms/${encodeURIComponent(slug)}`;
    this.status = byId('settings-status');
    this.error = byId('settings-error');
    this.nameInput = /** @type {HTMLInputElement} */ (byId('room-name-input'));
    this.guests = /** @type {HTMLInputElement} */ (byId('guests-input'));
    this.lobby = /** @type {HTMLInputElement} */ (byId('lobby-input'));
    this.e2ee = /** @type {HTMLInputElement} */ (byId('e2ee-input'));
    this.retention = /** @type {HTMLSelectElement} */ (byId('retention-select'));
    this.newPassword = /** @type {HTMLInputElement} */ (byId('room-password-new'));
    this.roleUser = /** @type {HTMLInputElement} */ (byId('role-user'));
    this.roleSelect = /** @type {HTMLSelectElement} */ (byId('role-select'));
    this.linkValid = /** @type {HTMLSelectElement} */ (byId('link-valid'));
    /** @type {Settings | null} */
    this.settings = null;

    const lang = `?lang=${language()}`;
    /** @type {HTMLAnchorElement} */ (byId('home-link')).href = `/${lang}`;
    /** @type {HTMLAnchorElement} */ (byId('room-link')).href = `/r/${slug}${lang}`;
    this.onSubmit('access-form', () => this.saveAccess());
    this.onSubmit('password-form', () => this.setPassword(this.newPassword.value));
    byId('password-clear').addEventListener('click', () => this.setPassword(''));
    this.onSubmit('role-form', () => this.addRole());
    this.onSubmit('link-form', () => this.createLink());
  }

  /** @param {string} id @param {() => Promise<void>} action */
  onSubmit(id, action) {
    byId(id).addEventListener('submit', (e) => {
      e.preventDefault();
      action();
    });
  }

  /** @param {string} text */
  say(text) {
    this.error.textContent = '';
    this.status.textContent = '';
    this.status.textContent = text;
  }

  /** @param {string | null} code */
  fail(code) {
    this.error.textContent = errorText(code ?? 'unknown');
  }

  async load() {
    const answer = await api(this.session, `${this.base}/settings`);
    if (!answer.ok) {
      if (answer.code === 'forbidden') this.error.textContent = t('settings.forbidden');
      else this.fail(answer.code);
      for (const part of Array.from(document.querySelectorAll('.settings-part'))) /** @type {HTMLElement} */ (part).hidden = true;
      return;
    }
    this.show(answer.body);
    await this.loadLinks();
  }

  /** @param {Settings} settings */
  show(settings) {
    this.settings = settings;
    byId('settings-room').textContent = settings.name;
    document.title = `${t('settings.heading')}: ${settings.name} – ${pageState().brand.name}`;
    this.nameInput.value = settings.name;
    this.guests.checked = settings.guests_allowed;
    this.lobby.checked = settings.lobby;
    this.e2ee.checked = settings.e2ee;
    const days = String(settings.retention_days ?? 0);
    if (!Array.from(this.retention.options).some((o) => o.value === days)) {
      this.retention.append(new Option(t('settings.days', { days }), days)); // set over the API
    }
    this.retention.value = days;
    byId('password-state').textContent = t(settings.has_password ? 'settings.hasPassword' : 'settings.noPassword');
    /** @type {HTMLButtonElement} */ (byId('password-clear')).disabled = !settings.has_password;
    if (settings.roles) this.showRoles(settings.roles);
  }

  async saveAccess() {
    const answer = await api(this.session, this.base, 'PATCH', {
      name: this.nameInput.value,
      guests_allowed: this.guests.checked,
      lobby: this.lobby.checked,
      e2ee: this.e2ee.checked,
      retention_days: Number(this.retention.value),
    });
    if (!answer.ok) return this.fail(answer.code);
    this.show({ ...answer.body, roles: this.settings?.roles });
    this.say(t('settings.saved'));
  }

  /** @param {string} password "" removes it */
  async setPassword(password) {
    if (password === '' && !this.settings?.has_password) return;
    if (password !== '' && !password.trim()) {
      this.error.textContent = t('settings.passwordMissing');
      this.newPassword.focus();
      return;
    }
    const answer = await api(this.session, this.base, 'PATCH', { password });
    if (!answer.ok) return this.fail(answer.code);
    this.newPassword.value = '';
    this.show({ ...answer.body, roles: this.settings?.roles });
    this.say(t(password ? 'settings.passwordSet' : 'settings.passwordCleared'));
  }

  // -- roles -------------------------------------------------------------------------------------

  /** @param {RoleItem[]} roles */
  showRoles(roles) {
    byId('roles-list').replaceChildren(...roles.map((r) => {
      const item = el('li', { class: 'plain-item' });
      item.append(el('span', {}, `${r.display_name} (${r.username}) – ${roleName(r.role)}`));
      if (r.role !== 'owner') {
        const remove = el('button', { type: 'button', 'aria-label': t('settings.removeRole', { name: r.display_name }) },
          t('settings.remove'));
        remove.addEventListener('click', () => this.changeRole(r.username, null));
        item.append(remove);
      }
      return item;
    }));
  }

  async addRole() {
    const username = this.roleUser.value.trim();
    if (!username) {
      this.error.textContent = t('settings.userMissing');
      this.roleUser.focus();
      return;
    }
    if (await this.changeRole(username, this.roleSelect.value)) this.roleUser.value = '';
  }

  /** @param {string} username @param {string | null} role @returns {Promise<boolean>} */
  async changeRole(username, role) {
    const path = `${this.base}/roles/${encodeURIComponent(username)}`;
    const answer = role ? await api(this.session, path, 'PUT', { role }) : await api(this.session, path, 'DELETE');
    if (!answer.ok) {
      this.fail(answer.code);
      return false;
    }
    const fresh = await api(this.session, `${this.base}/settings`);
    if (fresh.ok) this.show(fresh.body);
    this.say(t(role ? 'settings.roleGiven' : 'settings.roleTaken', { name: username }));
    return true;
  }

  // -- guest links -------------------------------------------------------------------------------

  async loadLinks() {
    const answer = await api(this.session, `${this.base}/guest-links`);
    if (!answer.ok) return this.fail(answer.code);
    /** @type {LinkItem[]} */
    const links = Array.isArray(answer.body?.links) ? answer.body.links : [];
    byId('links-list').replaceChildren(...links.map((link) => this.linkItem(link)));
    byId('links-empty').hidden = links.length > 0;
  }

  /** @param {LinkItem} link @returns {HTMLLIElement} */
  linkItem(link) {
    const url = new URL(link.url, location.origin).href;
    const item = el('li', { class: 'plain-item link-item' });
    const label = `link-${link.id}`;
    const until = t('settings.linkUntil', { date: dateTime(link.expires_at, language()) });
    item.append(el('span', { id: label }, until), el('code', { class: 'room-link' }, url));
    const copy = el('button', { type: 'button', 'aria-describedby': label }, t('home.copyLink'));
    copy.addEventListener('click', async () => this.say(t((await copyText(url)) ? 'home.copied' : 'home.copyFailed')));
    const revoke = el('button', { type: 'button', class: 'danger', 'aria-describedby': label }, t('settings.revoke'));
    revoke.addEventListener('click', () => this.revoke(link.id));
    const actions = el('div', { class: 'button-row' });
    actions.append(copy, revoke);
    item.append(actions);
    return item;
  }

  async createLink() {
    const answer = await api(this.session, `${this.base}/guest-links`, 'POST', { valid_hours: Number(this.linkValid.value) });
    if (!answer.ok) return this.fail(answer.code);
    await this.loadLinks();
    this.say(t('settings.linkCreated'));
  }

  /** @param {string} id */
  async revoke(id) {
    const answer = await api(this.session, `${this.base}/guest-links/${encodeURIComponent(id)}`, 'DELETE');
    if (!answer.ok) return this.fail(answer.code);
    await this.loadLinks();
    this.say(t('settings.linkRevoked'));
    byId('link-create').focus();
  }
}

setLanguage(detectLanguage(location.search, navigator.languages ?? [navigator.language]));
translate(document);
const state = pageState();
const slug = decodeURIComponent(location.pathname.split('/')[2] ?? '');
if (state.session) new SettingsPage(state.session, slug).load();
