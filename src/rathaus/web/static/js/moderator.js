// The moderator's side of a meeting: the waiting room (at the top of the participants panel),
// the entries "Mute all", "Lock meeting", "Allow participants without encryption" and "End
// meeting for all" in "More", the actions on each participant (on the tile and in the list,
// lowering a raised hand among them), and the messages about all that: our role, the lobby,
// the lock, and what other moderators did (announced politely).

import { hasKey, t } from './i18n.js';
import { msg } from './protocol.js';

/** @typedef {import('./tile.js').TileAction} TileAction */
/** @typedef {import('./protocol.js').ClientMessage} ClientMessage */
/** @typedef {import('./protocol.js').Participant} Participant */
/** @typedef {import('./i18n.js').MessageKey} MessageKey */

/**
 * @typedef {{
 *   meeting: import('./meeting.js').MeetingView,
 *   lobbyPanel: import('./lobby.js').LobbyPanel,
 *   dialog: import('./dialog.js').ConfirmDialog,
 *   send: (m: ClientMessage) => void,
 *   participant: (id: string) => Participant | undefined,
 *   handRaised: (id: string) => boolean,
 *   selfId: () => string | null,
 *   names: Map<string, string>,
 *   announce: (text: string, shown?: boolean) => void,
 * }} ModeratorParts
 */

export class ModeratorControls {
  /** @param {ModeratorParts} parts */
  constructor(parts) {
    const { meeting, lobbyPanel, dialog, send } = parts;
    this.parts = parts;
    this.meeting = meeting;
    this.dialog = dialog;
    this.send = send;
    lobbyPanel.onDecide = (action, id) => send(msg.about(action, id));
    lobbyPanel.onAdmitAll = () => send(msg.all('admit_all'));
    lobbyPanel.onEmptied = () => meeting.people.heading.focus();
    lobbyPanel.onWaiting = (names) => meeting.people.setWaiting(names);
    const { muteAll, lock, allowPlain, end } = meeting.modButtons;
    muteAll.addEventListener('click', () => send(msg.all('mute_all')));
    lock.addEventListener('click', () => send(msg.lock(!meeting.locked)));
    allowPlain.addEventListener('click', () => send(msg.allowUnencrypted(!meeting.allowPlain)));
    end.addEventListener('click', async () => {
      const answer = await dialog.ask({
        title: t('mod.endTitle'), text: t('mod.endText'), confirm: t('mod.end'),
      });
      if (answer) send(msg.all('end'));
    });
    meeting.actionsFor = (id) => this.actionsFor(id);
  }

  /** Follows one participation's messages (after app.js's own welcome handler).
   * @param {import('./signaling.js').Signaling} signaling @param {() => boolean} current */
  attach(signaling, current) {
    const { meeting, lobbyPanel, names, announce } = this.parts;
    signaling.on('welcome', (m) => {
      if (!current()) return;
      this.setRole(m.self.role, false);
      meeting.setLocked(m.locked);
      for (const p of m.waiting) names.set(p.id, p.name);
      lobbyPanel.replace(m.waiting);
    });
    signaling.on('knock', (m) => {
      if (!current()) return;
      names.set(m.participant.id, m.participant.name);
      lobbyPanel.add(m.participant);
      announce(t('mod.knock', { name: m.participant.name }));
    });
    signaling.on('knock_ended', (m) => current() && lobbyPanel.remove(m.id));
    signaling.on('lobby_list', (m) => {
      if (!current()) return;
      for (const p of m.waiting) names.set(p.id, p.name);
      lobbyPanel.replace(m.waiting);
    });
    signaling.on('moderation', (m) => current() && this.onModeration(m.action, m.by, m.target));
    signaling.on('meeting_updated', (m) => current() && meeting.setLocked(m.locked));
    signaling.on('e2ee_state', (m) => {
      if (current()) meeting.setAllowPlain(meeting.e2eeRequired, m.allow_unencrypted);
    });
    // Something the moderator can act on ("Allow participants without encryption"): shown.
    signaling.on('e2ee_refused', (m) => current() && announce(t('mod.e2eeRefused', { name: m.name }), true));
  }

  /** Our own role (from welcome, or a promotion). @param {string} role @param {boolean} announce */
  setRole(role, announce) {
    const moderating = role === 'moderator';
    if (announce && moderating && !this.meeting.moderator) this.parts.announce(t('you.promoted'), true);
    this.meeting.setModerator(moderating);
    this.parts.lobbyPanel.setEnabled(moderating);
  }

  /** Announces what a moderator did (not to the moderator, nor what the target hears anyway).
   * @param {string} action @param {string} by @param {string | null} target */
  onModeration(action, by, target) {
    const selfId = this.parts.selfId();
    if (!selfId || by === selfId || (target && target === selfId) || action === 'end') return;
    const key = `action.${action}`;
    if (!hasKey(key)) return;
    const nameOf = (/** @type {string} */ id) => this.parts.names.get(id) ?? t('action.someone');
    this.parts.announce(t(/** @type {MessageKey} */ (key), { by: nameOf(by), target: target ? nameOf(target) : '' }));
  }

  /** The moderator's actions on a participant (tile and list). @param {string} id @returns {TileAction[]} */
  actionsFor(id) {
    const p = this.parts.participant(id);
    if (!p) return [];
    const send = this.send;
    /** @type {TileAction[]} */
    const actions = [
      { label: t('mod.mute'), run: () => send(msg.about('mute', id)) },
      { label: t('mod.stopVideo'), run: () => send(msg.about('stop_video', id)) },
    ];
    if (this.parts.handRaised(id)) {
      actions.unshift({ label: t('mod.lowerHand'), run: () => send(msg.about('lower_hand', id)) });
    }
    if ([...this.meeting.screens.values()].some((s) => s.participantId === id)) {
      actions.push({ label: t('mod.stopScreen'), run: () => send(msg.about('stop_screen', id)) });
    }
    if (p.role !== 'moderator') {
      actions.push({ label: t('mod.promote'), run: () => send(msg.about('promote', id)) });
    }
    actions.push({ label: t('mod.remove'), danger: true, run: () => this.confirmRemove(id) });
    return actions;
  }

  /** @param {string} id */
  async confirmRemove(id) {
    const name = this.parts.participant(id)?.name ?? '';
    const answer = await this.dialog.ask({
      title: t('mod.removeTitle', { name }), text: t('mod.removeText'), confirm: t('mod.remove'),
      checkbox: t('mod.bar'),
    });
    if (answer) this.send(msg.remove(id, answer.checked));
  }
}
