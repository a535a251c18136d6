// The moderator's controls: the waiting-room panel, the toolbar buttons "Mute all",
// "Lock meeting", "Allow participants without encryption", "End meeting for all", and the actions
// on each participant's tile (lowering a raised hand among them).

import { t } from './i18n.js';
import { msg } from './protocol.js';

/** @typedef {import('./tile.js').TileAction} TileAction */
/** @typedef {import('./protocol.js').ClientMessage} ClientMessage */
/** @typedef {import('./protocol.js').Participant} Participant */

export class ModeratorControls {
  /**
   * @param {{
   *   meeting: import('./meeting.js').MeetingView,
   *   lobbyPanel: import('./lobby.js').LobbyPanel,
   *   dialog: import('./dialog.js').ConfirmDialog,
   *   send: (m: ClientMessage) => void,
   *   participant: (id: string) => Participant | undefined,
   *   handRaised: (id: string) => boolean,
   *   onLobbyEmptied: () => void,
   * }} parts
   */
  constructor({ meeting, lobbyPanel, dialog, send, participant, handRaised, onLobbyEmptied }) {
    this.meeting = meeting;
    this.dialog = dialog;
    this.send = send;
    this.participant = participant;
    this.handRaised = handRaised;
    lobbyPanel.onDecide = (action, id) => send(msg.about(action, id));
    lobbyPanel.onAdmitAll = () => send(msg.all('admit_all'));
    lobbyPanel.onEmptied = onLobbyEmptied;
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

  /** The moderator's actions on a participant's tile. @param {string} id @returns {TileAction[]} */
  actionsFor(id) {
    const p = this.participant(id);
    if (!p) return [];
    const send = this.send;
    /** @type {TileAction[]} */
    const actions = [
      { label: t('mod.mute'), run: () => send(msg.about('mute', id)) },
      { label: t('mod.stopVideo'), run: () => send(msg.about('stop_video', id)) },
    ];
    if (this.handRaised(id)) {
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
    const name = this.participant(id)?.name ?? '';
    const answer = await this.dialog.ask({
      title: t('mod.removeTitle', { name }), text: t('mod.removeText'), confirm: t('mod.remove'),
      checkbox: t('mod.bar'),
    });
    if (answer) this.send(msg.remove(id, answer.checked));
  }
}
