// window.rathaus.state(): a read-only view of the page for the browser tests (and for whoever
// debugs a meeting in the console). Nothing in it changes the page.

import { language } from './i18n.js';

/** @param {import('./app.js').App} app */
export function installHook(app) {
  Object.defineProperty(window, 'rathaus', {
    value: Object.freeze({
      state() {
        const media = app.media?.snapshot();
        const meeting = app.meeting.snapshot();
        return {
          room: app.room,
          language: language(),
          screen: app.screen,
          joined: app.signaling?.status === 'joined' && app.screen === 'meeting',
          connection: app.signaling?.status ?? 'idle',
          participantId: app.self?.id ?? null,
          name: app.self?.name ?? null,
          self: app.self ? { ...app.self, audio: app.local?.audioOn ?? false, video: app.local?.videoOn ?? false } : null,
          audio: app.local?.audioOn ?? false,
          video: app.local?.videoOn ?? false,
          screenSharing: app.local?.screenOn ?? false,
          devices: { camera: app.local?.video?.label ?? null, microphone: app.local?.audio?.label ?? null },
          mediaAvailable: media?.available ?? null,
          iceRestarts: media?.iceRestarts ?? 0,
          participants: [...app.participants.values()].map((p) => ({ ...p })),
          publishing: media?.publishing ?? {},
          subscriptions: media?.subscriptions ?? [],
          subscribedFeeds: (media?.subscriptions ?? []).map((s) => s.feed),
          tiles: meeting.tiles,
          layout: meeting.layout,
          bandwidth: app.viewOptions.snapshot(),
          people: meeting.people,
          presenting: meeting.presenting,
          banner: app.announcer.visible(),
          role: app.self?.role ?? null,
          moderator: app.meeting.moderator,
          locked: app.meeting.locked,
          lobby: app.screen === 'lobby' ? app.lobby.status : null,
          waiting: app.lobbyPanel.snapshot(),
          hands: app.hands.snapshot(),
          signedIn: app.signIn.session?.user.username ?? null,
          e2ee: {
            on: app.encryption?.on ?? false,
            encrypted: app.encryption?.state.encrypted ?? false,
            safetyCode: app.encryption?.safetyCode?.display ?? null,
            stats: app.encryption?.on ? app.encryption.stats : null,
            stalls: app.encryption?.stalls ?? 0,
          },
        };
      },
      /** What each subscription's video receiver got so far (getStats), by feed: whether Janus
       * really sends. @returns {Promise<Record<string, {packets: number, frames: number}>>} */
      async videoReceived() {
        /** @type {Record<string, {packets: number, frames: number}>} */
        const out = {};
        for (const sub of app.media?.subscribers.values() ?? []) {
          const stats = await sub.peer?.pc.getStats().catch(() => null);
          stats?.forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') {
              out[sub.feed.id] = { packets: s.packetsReceived ?? 0, frames: s.framesDecoded ?? 0 };
            }
          });
        }
        return out;
      },
    }),
    configurable: false,
    writable: false,
  });
}
