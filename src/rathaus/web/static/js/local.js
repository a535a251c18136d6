// The participant's own media: microphone, camera and screen tracks and their on/off state.
// Hands tracks to MediaSession; no DOM access.

import { NONE } from './devices.js';

/** @typedef {import('./media.js').MediaSession} MediaSession */

export class LocalMedia {
  /**
   * @param {MediaStream | null} stream from the pre-join preview (ownership passes here)
   * @param {MediaSession} media
   * @param {string} cameraChoice device id chosen before joining ('' or NONE for none/default)
   * @param {string} micChoice
   * @param {{camera: boolean, mic: boolean}} devices whether such devices exist at all
   */
  constructor(stream, media, cameraChoice, micChoice, devices) {
    this.media = media;
    /** @type {MediaStreamTrack | null} */
    this.audio = stream?.getAudioTracks()[0] ?? null;
    /** @type {MediaStreamTrack | null} */
    this.video = stream?.getVideoTracks()[0] ?? null;
    /** @type {MediaStreamTrack | null} */
    this.screen = null;
    this.cameraId = cameraChoice === NONE ? '' : cameraChoice;
    this.micId = micChoice === NONE ? '' : micChoice;
    this.canVideo = !!this.video || devices.camera;
    this.canAudio = !!this.audio || devices.mic;
    /** @type {MediaStream} own preview (video only matters; the own tile is muted) */
    this.stream = new MediaStream(this.tracks());
    /** @type {() => void} */
    this.onChange = () => {};
    /** @type {() => void} the browser's "stop sharing" ended the screen share */
    this.onScreenEnded = () => {};
    this.disposed = false;
    media.setCameraTracks(this.audio, this.video);
  }

  get audioOn() { return !!this.audio && this.audio.enabled && this.audio.readyState === 'live'; }
  get videoOn() { return !!this.video && this.video.readyState === 'live'; }
  get screenOn() { return !!this.screen && this.screen.readyState === 'live'; }

  /** @returns {MediaStreamTrack[]} */
  tracks() {
    return [this.audio, this.video].filter((t) => t !== null);
  }

  changed() {
    this.stream = new MediaStream(this.tracks());
    this.onChange();
  }

  /** Microphone on/off: mutes the track (track.enabled), opens the microphone if there is none.
   * @param {boolean} on @returns {Promise<boolean>} success */
  async setAudio(on) {
    if (this.audio && this.audio.readyState === 'live') {
      this.audio.enabled = on;
    } else if (on) {
      const track = await this.open('audio');
      if (!track) return false;
      this.audio = track;
      await this.media.setCameraTracks(this.audio, this.video);
    }
    this.changed();
    return true;
  }

  /** Camera on/off: off stops the camera (its light goes out), on opens it again.
   * @param {boolean} on @returns {Promise<boolean>} success */
  async setVideo(on) {
    if (!on) {
      this.video?.stop();
      this.video = null;
    } else if (!this.videoOn) {
      const track = await this.open('video');
      if (!track) {
        this.changed();
        return false;
      }
      this.video = track;
    }
    await this.media.setCameraTracks(this.audio, this.video);
    this.changed();
    return true;
  }

  /** Screen share on/off via getDisplayMedia. @param {boolean} on @returns {Promise<boolean>} */
  async setScreen(on) {
    if (on && !this.screenOn) {
      /** @type {MediaStream} */
      let stream;
      try {
        stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      } catch (e) {
        console.info('rathaus: getDisplayMedia failed', e instanceof Error ? e.name : e);
        this.changed();
        return false;
      }
      const track = stream.getVideoTracks()[0];
      if (!track || this.disposed) {
        for (const t of stream.getTracks()) t.stop();
        return false;
      }
      track.contentHint = 'detail';
      track.addEventListener('ended', () => {
        if (this.screen !== track) return;
        this.screen = null;
        this.media.setScreenTrack(null);
        this.onScreenEnded();
        this.changed();
      });
      this.screen = track;
      await this.media.setScreenTrack(track);
    } else if (!on && this.screen) {
      const track = this.screen;
      this.screen = null;
      track.stop();
      await this.media.setScreenTrack(null);
    }
    this.changed();
    return true;
  }

  /** Another camera from now on; opened at once if the camera is on.
   * @param {string} id @returns {Promise<boolean>} success */
  async useCamera(id) {
    this.cameraId = id === NONE ? '' : id;
    if (id === NONE) return this.setVideo(false);
    if (!this.videoOn) return true;
    const track = await this.open('video', true);
    if (!track) return false;
    this.video?.stop();
    this.video = track;
    await this.media.setCameraTracks(this.audio, this.video);
    this.changed();
    return true;
  }

  /** Another microphone from now on, muted or not as the one before.
   * @param {string} id @returns {Promise<boolean>} success */
  async useMicrophone(id) {
    this.micId = id === NONE ? '' : id;
    const enabled = this.audioOn;
    const track = id === NONE ? null : await this.open('audio', true);
    if (!track && id !== NONE) return false;
    if (track) track.enabled = enabled;
    this.audio?.stop();
    this.audio = track;
    await this.media.setCameraTracks(this.audio, this.video);
    this.changed();
    return true;
  }

  /** The chosen device of ``kind``; ``exact``: that one or none (a switch the user asked for),
   * else preferably that one (it may have gone since).
   * @param {'audio' | 'video'} kind @param {boolean} [exact] @returns {Promise<MediaStreamTrack | null>} */
  async open(kind, exact = false) {
    const id = kind === 'audio' ? this.micId : this.cameraId;
    /** @type {MediaTrackConstraints} */
    const constraints = kind === 'video' ? { width: { ideal: 1280 }, height: { ideal: 720 } } : {};
    if (id) constraints.deviceId = exact ? { exact: id } : { ideal: id };
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ [kind]: constraints });
      const track = (kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks())[0] ?? null;
      if (this.disposed) {
        track?.stop();
        return null;
      }
      return track;
    } catch (e) {
      console.info(`rathaus: getUserMedia(${kind}) failed`, e instanceof Error ? e.name : e);
      return null;
    }
  }

  /** Stops every local track. */
  dispose() {
    this.disposed = true;
    for (const track of [this.audio, this.video, this.screen]) track?.stop();
    this.audio = null;
    this.video = null;
    this.screen = null;
  }
}
