// bandmate studio: the jam page. The player's keys (Web MIDI, the computer keyboard, the keys on
// screen) go to the server's live band over a WebSocket (/api/jam); the band's notes come back
// stamped with their time on the session clock and are played by a small Web Audio synth at
// that time, mapped onto the audio clock by the `clock` message (see bandmate.web.jam).
//
// `window.bandmateJam` exposes the state for the tests and for the curious: `received` (band
// notes received), `scheduled` (note-ons scheduled per MIDI channel), `late` (notes that came
// after their time and were played at once), `chord`, `state` and the AudioContext `audio`.
"use strict";

(() => {
  const LEAD_S = 0.03; // the audio clock runs this far behind the band's: room for network jitter
  const MAX_EXTRA_LEAD_S = 0.15; // late notes push the lead up, to this much more at most
  const PLAYER = "player"; // the channel key of the player's own notes
  const KEYS_FROM = 36; // the on-screen keyboard: C2 ..
  const KEYS_TO = 84; //                              .. C6
  const SPLIT_NOTE = 55; // G3, the server's split: below it the left hand plays the chord
  // the computer keyboard, by physical key (KeyboardEvent.code): two rows as on a tracker
  const KEY_PITCHES = {};
  "KeyZ KeyS KeyX KeyD KeyC KeyV KeyG KeyB KeyH KeyN KeyJ KeyM Comma KeyL Period Semicolon Slash"
    .split(" ").forEach((code, i) => { KEY_PITCHES[code] = 36 + i; }); // C2 .. E3
  "KeyQ Digit2 KeyW Digit3 KeyE KeyR Digit5 KeyT Digit6 KeyY Digit7 KeyU KeyI Digit9 KeyO Digit0 KeyP"
    .split(" ").forEach((code, i) => { KEY_PITCHES[code] = 60 + i; }); // C4 .. E5

  const jam = {
    received: 0, scheduled: {}, late: 0, state: "idle", chord: null, audio: null,
    socket: null, midiInputs: 0,
  };
  window.bandmateJam = jam;

  const $ = (id) => document.getElementById(id);
  const statusEl = $("jam-status");
  const setStatus = (text, isError = false) => {
    statusEl.textContent = text;
    statusEl.classList.toggle("error", isError);
  };

  // ---- the synth ------------------------------------------------------------------------------
  let master = null;
  let noise = null;
  let offset = null; // audio time = band time + offset
  let extraLead = 0;
  const timbres = {}; // channel -> timbre name
  const sounding = new Map(); // "channel:pitch" -> [voice, ...], oldest first

  function ensureAudio() {
    if (!jam.audio) {
      const ctx = new AudioContext({ latencyHint: "interactive" });
      const compressor = ctx.createDynamicsCompressor();
      master = ctx.createGain();
      master.gain.value = 0.35;
      master.connect(compressor).connect(ctx.destination);
      noise = ctx.createBuffer(1, ctx.sampleRate, ctx.sampleRate); // a second of white noise
      const data = noise.getChannelData(0);
      for (let i = 0; i < data.length; i++) data[i] = Math.random() * 2 - 1;
      jam.audio = ctx;
    }
    if (jam.audio.state === "suspended") jam.audio.resume();
    return jam.audio;
  }

  const hz = (pitch) => 440 * Math.pow(2, (pitch - 69) / 12);

  function timbreOf(part) {
    if (part.is_drum) return "drums";
    const p = part.program;
    if (p >= 32 && p <= 39) return "bass";
    if (p >= 24 && p <= 31) return "pluck";
    if ((p >= 40 && p <= 55) || (p >= 88 && p <= 95)) return "pad";
    if (p >= 56 && p <= 87) return "lead";
    return "epiano";
  }

  // Each timbre: oscillators (type, frequency ratio, level), an optional low-pass (Hz, and where
  // it falls to), and an envelope (attack, decay time constant, sustain level, release, in s).
  const TIMBRES = {
    bass: { osc: [["triangle", 1, 1], ["sine", 0.5, 0.5]], cutoff: [900, 500],
      env: [0.005, 0.4, 0.6, 0.06], level: 0.9 },
    epiano: { osc: [["sine", 1, 1], ["sine", 2, 0.25], ["triangle", 4, 0.06]],
      env: [0.004, 0.5, 0.25, 0.25], level: 0.45 },
    pluck: { osc: [["sawtooth", 1, 0.6], ["square", 1.002, 0.2]], cutoff: [3200, 700],
      env: [0.002, 0.25, 0.15, 0.12], level: 0.35 },
    pad: { osc: [["sawtooth", 1, 0.4], ["sawtooth", 1.006, 0.4]], cutoff: [1400, 1100],
      env: [0.2, 1.0, 0.8, 0.5], level: 0.22 },
    lead: { osc: [["square", 1, 0.5], ["sine", 1, 0.5]], cutoff: [2600, 1800],
      env: [0.01, 0.3, 0.7, 0.1], level: 0.35 },
  };

  function startVoice(timbreName, pitch, velocity, at) {
    const ctx = jam.audio;
    const timbre = TIMBRES[timbreName] || TIMBRES.epiano;
    const [attack, decay, sustain, release] = timbre.env;
    const peak = timbre.level * Math.pow(velocity / 127, 1.5);
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, at);
    gain.gain.linearRampToValueAtTime(peak, at + attack);
    gain.gain.setTargetAtTime(peak * sustain, at + attack, decay / 3);
    let out = gain;
    if (timbre.cutoff) {
      const filter = ctx.createBiquadFilter();
      filter.type = "lowpass";
      filter.frequency.setValueAtTime(timbre.cutoff[0], at);
      filter.frequency.setTargetAtTime(timbre.cutoff[1], at, decay / 2);
      gain.connect(filter);
      out = filter;
    }
    out.connect(master);
    const oscillators = timbre.osc.map(([type, ratio, level]) => {
      const osc = ctx.createOscillator();
      const g = ctx.createGain();
      osc.type = type;
      osc.frequency.value = hz(pitch) * ratio;
      g.gain.value = level;
      osc.connect(g).connect(gain);
      osc.start(at);
      return osc;
    });
    return {
      stopped: false,
      stop(when) {
        if (this.stopped) return;
        this.stopped = true;
        const t = Math.max(when, at + attack, ctx.currentTime);
        gain.gain.setTargetAtTime(0, t, release / 3);
        for (const osc of oscillators) osc.stop(t + release * 2);
        oscillators[0].onended = () => out.disconnect();
      },
    };
  }

  function noiseBurst(at, { type, freq, q = 1, decay, level }) {
    const ctx = jam.audio;
    const source = ctx.createBufferSource();
    source.buffer = noise;
    const filter = ctx.createBiquadFilter();
    filter.type = type;
    filter.frequency.value = freq;
    filter.Q.value = q;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(level, at);
    gain.gain.exponentialRampToValueAtTime(0.001, at + decay);
    source.connect(filter).connect(gain).connect(master);
    source.start(at, Math.random() * 0.5);
    source.stop(at + decay + 0.01);
  }

  function thump(at, from, to, decay, level) {
    const ctx = jam.audio;
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.setValueAtTime(from, at);
    osc.frequency.exponentialRampToValueAtTime(to, at + decay * 0.4);
    gain.gain.setValueAtTime(level, at);
    gain.gain.exponentialRampToValueAtTime(0.001, at + decay);
    osc.connect(gain).connect(master);
    osc.start(at);
    osc.stop(at + decay + 0.01);
  }

  // General MIDI drum notes as noise bursts and pitch-swept sines.
  function drum(pitch, velocity, at) {
    const v = Math.pow(velocity / 127, 1.3);
    if (pitch === 35 || pitch === 36) return thump(at, 150, 45, 0.3, 1.0 * v);
    if (pitch === 38 || pitch === 40) {
      noiseBurst(at, { type: "highpass", freq: 1200, decay: 0.18, level: 0.5 * v });
      return thump(at, 220, 160, 0.08, 0.35 * v);
    }
    if (pitch === 37 || pitch === 39) {
      return noiseBurst(at, { type: "bandpass", freq: 1800, q: 2, decay: 0.08, level: 0.5 * v });
    }
    if (pitch === 42 || pitch === 44) {
      return noiseBurst(at, { type: "highpass", freq: 7000, decay: 0.05, level: 0.25 * v });
    }
    if (pitch === 46) return noiseBurst(at, { type: "highpass", freq: 6500, decay: 0.3, level: 0.22 * v });
    if ([49, 52, 55, 57].includes(pitch)) {
      return noiseBurst(at, { type: "highpass", freq: 4500, decay: 1.2, level: 0.25 * v });
    }
    if ([51, 53, 59].includes(pitch)) {
      return noiseBurst(at, { type: "bandpass", freq: 6000, q: 0.8, decay: 0.5, level: 0.18 * v });
    }
    if ([41, 43, 45, 47, 48, 50].includes(pitch)) {
      return thump(at, hz(pitch + 12), hz(pitch), 0.3, 0.6 * v);
    }
    return noiseBurst(at, { type: "bandpass", freq: 3500, q: 1.5, decay: 0.1, level: 0.2 * v });
  }

  function releaseChannels(channels, when) {
    for (const [key, voices] of sounding) {
      const channel = key.split(":")[0];
      if (channels === null || channels.includes(channel)) {
        for (const voice of voices) voice.stop(when);
        sounding.delete(key);
      }
    }
  }

  // The audio time of a band time, keeping notes that came late (and following ones) on time.
  function audioTime(bandTime) {
    const now = jam.audio.currentTime;
    let at = bandTime + offset;
    if (at < now) {
      jam.late += 1;
      const add = Math.min(now - at, MAX_EXTRA_LEAD_S - extraLead);
      if (add > 0) {
        extraLead += add;
        offset += add;
      }
      at = now;
    }
    return at;
  }

  function playBandNote(message) {
    if (offset === null) return;
    const channel = String(message.channel);
    const at = audioTime(message.time);
    const key = `${channel}:${message.pitch}`;
    const timbre = timbres[channel] || "epiano";
    if (message.velocity > 0) {
      jam.scheduled[channel] = (jam.scheduled[channel] || 0) + 1;
      if (timbre === "drums") return drum(message.pitch, message.velocity, at);
      const voices = sounding.get(key) || [];
      voices.push(startVoice(timbre, message.pitch, message.velocity, at));
      sounding.set(key, voices);
    } else {
      const voices = sounding.get(key);
      if (voices && voices.length) {
        voices.shift().stop(at);
        if (!voices.length) sounding.delete(key);
      }
    }
  }

  // ---- the connection -------------------------------------------------------------------------
  function onMessage(event) {
    let message;
    try { message = JSON.parse(event.data); } catch (e) { return; }
    if (message.type === "note") {
      if (jam.state === "ready") {
        jam.state = "playing";
        setStatus("The band is playing along.");
      }
      jam.received += 1;
      playBandNote(message);
    } else if (message.type === "clock") {
      offset = jam.audio.currentTime - message.time + LEAD_S;
      extraLead = 0;
    } else if (message.type === "parts") {
      for (const part of message.parts) timbres[String(part.channel)] = timbreOf(part);
      jam.state = "ready";
      const names = message.parts.map((p) => p.name).join(", ");
      setStatus(`The band is ready (${names}): play a chord to start.`);
    } else if (message.type === "all_notes_off") {
      releaseChannels(message.channels.map(String), jam.audio.currentTime);
    } else if (message.type === "chord") {
      jam.chord = message.name;
      $("jam-chord").textContent = message.name || "–";
      $("jam-key").textContent = message.key || "–";
      $("jam-tempo").textContent = message.tempo_bpm ? `${message.tempo_bpm} BPM` : "–";
      $("jam-meter-now").textContent = message.meter || "–";
    }
  }

  function send(message) {
    if (jam.socket && jam.socket.readyState === WebSocket.OPEN) jam.socket.send(JSON.stringify(message));
  }

  function start(event) {
    event.preventDefault();
    if (jam.socket) return;
    ensureAudio();
    startMidi();
    const play = [...document.querySelectorAll("input[name=jam-play]:checked")].map((i) => i.value);
    if (!play.length) return setStatus("Choose who plays: the band, answers or a chorale.", true);
    const query = new URLSearchParams({
      style: $("jam-style").value || "pop", mode: $("jam-mode").value, play: play.join(","),
    });
    // the field's text as typed: the server refuses a tempo it cannot play, in a sentence
    const tempo = $("jam-tempo-bpm").value.trim(); // empty: the style's
    if (tempo) query.set("tempo", tempo);
    const meter = $("jam-meter").value.trim(); // empty: the style's
    if (meter) query.set("meter", meter);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/api/jam?${query}`);
    jam.socket = socket;
    jam.state = "connecting";
    setStatus("Calling the band…");
    $("jam-start").disabled = true;
    $("jam-stop").disabled = false;
    socket.onmessage = onMessage;
    socket.onclose = (e) => {
      jam.socket = null;
      jam.state = "idle";
      offset = null;
      releaseChannels(null, jam.audio.currentTime);
      $("jam-start").disabled = false;
      $("jam-stop").disabled = true;
      if (e.code === 1000 || e.code === 1001) setStatus("The band has stopped.");
      else setStatus(e.reason || `The band could not play (connection closed, ${e.code}).`, true);
    };
  }

  function stop() {
    if (jam.socket) jam.socket.close(1000, "the player stopped");
  }

  // ---- the player's keys ----------------------------------------------------------------------
  const keyEls = {};
  const down = new Map(); // pitch -> how many inputs hold it

  function playerNote(pitch, velocity) {
    if (pitch < 0 || pitch > 127) return;
    const count = down.get(pitch) || 0;
    if (velocity > 0) {
      down.set(pitch, count + 1);
      send({ type: "note_on", pitch, velocity });
      if (jam.audio) {
        const voices = sounding.get(`${PLAYER}:${pitch}`) || [];
        voices.push(startVoice("epiano", pitch, velocity, jam.audio.currentTime));
        sounding.set(`${PLAYER}:${pitch}`, voices);
      }
    } else {
      if (count <= 0) return;
      down.set(pitch, count - 1);
      send({ type: "note_off", pitch });
      const voices = sounding.get(`${PLAYER}:${pitch}`);
      if (voices && voices.length) voices.shift().stop(jam.audio.currentTime);
    }
    if (keyEls[pitch]) keyEls[pitch].classList.toggle("down", (down.get(pitch) || 0) > 0);
  }

  function sustain(on) {
    send({ type: "sustain", value: on ? 127 : 0 });
  }

  function onMidi(event) {
    const [status, data1, data2] = event.data;
    const kind = status & 0xf0;
    // channel 10 is the drum channel: a controller's pads, not keys (as the server reads MIDI)
    if ((kind === 0x80 || kind === 0x90) && (status & 0x0f) === 9) return;
    if (kind === 0x90 && data2 > 0) playerNote(data1, data2);
    else if (kind === 0x80 || kind === 0x90) playerNote(data1, 0);
    else if (kind === 0xb0 && data1 === 64) sustain(data2 >= 64);
    // clock, active sensing and the rest are not the band's business
  }

  let midiAccess = null;
  async function startMidi() {
    const label = $("jam-midi");
    if (midiAccess) return;
    if (!navigator.requestMIDIAccess) {
      label.textContent = "not in this browser";
      return;
    }
    try {
      midiAccess = await navigator.requestMIDIAccess();
    } catch (e) {
      label.textContent = "not allowed";
      return;
    }
    const attach = () => {
      let count = 0;
      for (const input of midiAccess.inputs.values()) {
        input.onmidimessage = onMidi;
        count += 1;
      }
      jam.midiInputs = count;
      label.textContent = count ? `${count} input${count > 1 ? "s" : ""}` : "no inputs";
    };
    attach();
    midiAccess.onstatechange = attach;
  }

  function typing(event) {
    const tag = event.target && event.target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", (event) => {
    if (!jam.socket || typing(event) || event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.code === "Space") { sustain(true); event.preventDefault(); return; }
    const pitch = KEY_PITCHES[event.code];
    if (pitch !== undefined) { playerNote(pitch, 90); event.preventDefault(); }
  });
  document.addEventListener("keyup", (event) => {
    if (event.code === "Space") { if (jam.socket) sustain(false); return; }
    const pitch = KEY_PITCHES[event.code];
    if (pitch !== undefined) playerNote(pitch, 0);
  });
  window.addEventListener("blur", () => { // a key released while the page had no focus
    for (const [pitch, count] of down) for (let i = 0; i < count; i++) playerNote(pitch, 0);
  });

  function buildKeyboard() {
    const board = $("jam-keyboard");
    const isBlack = (p) => [1, 3, 6, 8, 10].includes(p % 12);
    const whites = [];
    for (let p = KEYS_FROM; p <= KEYS_TO; p++) if (!isBlack(p)) whites.push(p);
    const width = 100 / whites.length;
    for (let p = KEYS_FROM; p <= KEYS_TO; p++) {
      const key = document.createElement("div");
      key.className = `key ${isBlack(p) ? "black" : "white"}${p === SPLIT_NOTE ? " split" : ""}`;
      key.dataset.pitch = String(p);
      const left = whites.indexOf(isBlack(p) ? p - 1 : p) * width;
      key.style.left = `${isBlack(p) ? left + width * 0.65 : left}%`;
      key.style.width = `${isBlack(p) ? width * 0.7 : width}%`;
      key.title = `MIDI ${p}`;
      board.append(key);
      keyEls[p] = key;
    }
    const held = new Map(); // pointerId -> pitch
    const release = (e) => {
      if (held.has(e.pointerId)) { playerNote(held.get(e.pointerId), 0); held.delete(e.pointerId); }
    };
    board.addEventListener("pointerdown", (e) => {
      const pitch = Number(e.target.dataset && e.target.dataset.pitch);
      if (!pitch) return;
      e.preventDefault();
      ensureAudio(); // a click is the user gesture that lets audio start
      release(e);
      held.set(e.pointerId, pitch);
      playerNote(pitch, 90);
    });
    board.addEventListener("pointerup", release);
    board.addEventListener("pointercancel", release);
    board.addEventListener("pointerout", (e) => { if (e.target.dataset.pitch) release(e); });
  }

  async function loadStyles() {
    const select = $("jam-style");
    const response = await fetch("/api/styles");
    if (!response.ok) throw new Error(`The styles could not be loaded (${response.status}).`);
    for (const style of await response.json()) {
      const option = document.createElement("option");
      option.value = style.name;
      option.textContent = style.name;
      option.title = style.description;
      if (style.name === "pop") option.selected = true;
      select.append(option);
    }
  }

  buildKeyboard();
  $("jam-form").addEventListener("submit", start);
  $("jam-stop").addEventListener("click", stop);
  loadStyles().catch((error) => setStatus(error.message, true));
})();
