// bandmate studio: the page's whole script (no build step, no libraries).
// Every state-changing request carries `X-Bandmate: 1` (the server's CSRF check).
"use strict";

const api = {
  // `timeoutMs`: give up on an answer after this long (a TimeoutError), rather than wait for ever
  async json(method, url, body, timeoutMs) {
    const init = { method, headers: { "X-Bandmate": "1" } };
    if (timeoutMs !== undefined) init.signal = AbortSignal.timeout(timeoutMs);
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return api.check(await fetch(url, init));
  },
  async upload(file) {
    const form = new FormData();
    form.append("file", file, file.name);
    const response = await fetch("/api/uploads", {
      method: "POST", headers: { "X-Bandmate": "1" }, body: form,
    });
    return (await api.check(response)).id;
  },
  async check(response) {
    let data = null;
    try { data = await response.json(); } catch (e) { /* not JSON */ }
    if (!response.ok) {
      const detail = data && data.detail;
      const error = new Error(typeof detail === "string" ? detail : `The server answered ${response.status}.`);
      error.status = response.status;
      throw error;
    }
    return data;
  },
  // No answer: the studio is down or restarting (fetch itself fails, or no answer comes in
  // time), or a proxy in front of it says so (502-504).
  unreachable(error) {
    return error instanceof TypeError || error.name === "TimeoutError" ||
      [502, 503, 504].includes(error.status);
  },
  fileUrl(jobId, name) {
    return `/api/jobs/${jobId}/files/${name.split("/").map(encodeURIComponent).join("/")}`;
  },
};

function setStatus(el, text, isError = false) {
  el.textContent = text;
  el.classList.toggle("error", isError);
}

// A job the user cancelled: its form says so, not in the colour of an error.
class JobCancelled extends Error {}

function showError(status, error) {
  setStatus(status, error.message, !(error instanceof JobCancelled));
}

// Jobs outlive a restart of the studio: while it does not answer, the page keeps asking (saying
// so in `status`) for this long before it gives up.
const SILENCE_LIMIT_MS = 10 * 60 * 1000;
const WAITING_FOR_STUDIO = "The studio is not answering (restarting?); the job is kept, waiting for it…";
// A job's status comes back in milliseconds; a poll still unanswered after this long is taken as
// no answer (a connection to a studio going down can hang rather than fail), and asked again.
const POLL_TIMEOUT_MS = 8000;

// Poll a job until it is done, failed or cancelled; `onProgress(state, fraction)` as it runs.
// Meanwhile the form's Cancel button (the status element's id with -cancel for -status) is shown;
// a click asks the studio to cancel the job, and this then throws JobCancelled once the studio
// says the job is cancelled.
async function waitForJob(id, status, onProgress) {
  const cancel = document.getElementById(status.id.replace(/-status$/, "-cancel"));
  let cancelling = false;
  const onCancel = async () => {
    cancelling = true;
    cancel.disabled = true;
    setStatus(status, "Cancelling…");
    try {
      await api.json("POST", `/api/jobs/${id}/cancel`);
    } catch (error) {
      // a job that finished meanwhile (409) is followed to its end as it is
      cancelling = false;
      if (error.status !== 409) showError(status, error);
    }
  };
  cancel.disabled = false;
  cancel.hidden = false;
  cancel.addEventListener("click", onCancel);
  try {
    return await followJob(id, status, (state, progress) => {
      if (!cancelling) onProgress(state, progress);
    });
  } finally {
    cancel.removeEventListener("click", onCancel);
    cancel.hidden = true;
  }
}

async function followJob(id, status, onProgress) {
  let silentSince = null;
  for (;;) {
    let job;
    try {
      job = await api.json("GET", `/api/jobs/${id}`, undefined, POLL_TIMEOUT_MS);
      silentSince = null;
    } catch (error) {
      if (!api.unreachable(error)) throw error;
      silentSince = silentSince ?? Date.now();
      if (Date.now() - silentSince > SILENCE_LIMIT_MS) {
        throw new Error("The studio stopped answering; the job is kept, so reload the page once it is back.");
      }
      setStatus(status, WAITING_FOR_STUDIO);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (job.status === "done") return job;
    if (job.status === "failed") throw new Error(job.error || "The job failed.");
    if (job.status === "cancelled") throw new JobCancelled("Cancelled.");
    onProgress(job.status, job.progress);
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

// A reload of the page must not lose a job it was following (the job runs on in the studio, but
// the page had forgotten it, its results out of reach): while a form follows a job, the job's id
// is kept in sessionStorage under the form's name, and a page (re)loaded finds it there and
// follows the job again (`resumeJobs`). Storage refused (a private window's quota) only loses
// that.
const JOB_KEY = (form) => `bandmate-job-${form}`;

function rememberJob(form, id) {
  try { sessionStorage.setItem(JOB_KEY(form), id); } catch (e) { /* not kept */ }
}

function forgetJob(form) {
  try { sessionStorage.removeItem(JOB_KEY(form)); } catch (e) { /* nothing kept */ }
}

// `waitForJob` for a form's job, its id kept for a reload until the job ends (a page unloaded
// mid-job never reaches the `finally`, so the id stays for the next load).
async function followFormJob(form, id, status, onProgress) {
  rememberJob(form, id);
  try {
    return await waitForJob(id, status, onProgress);
  } finally {
    forgetJob(form);
  }
}

// Run a form's job with its button disabled (a double-click queued the job twice, uploading
// every file twice) and the previous job's results hidden (a failed job left them on show under
// its reason, as if they were its own).
async function runForm(button, result, run) {
  if (button.disabled) return;
  button.disabled = true;
  result.hidden = true;
  try {
    await run();
  } finally {
    button.disabled = false;
  }
}

function fillDownloads(list, jobId, files) {
  list.replaceChildren();
  for (const name of files) {
    if (name.endsWith(".provenance.json")) continue;
    const a = document.createElement("a");
    a.href = api.fileUrl(jobId, name);
    a.textContent = name;
    a.download = name.split("/").pop();
    const li = document.createElement("li");
    li.append(a);
    list.append(li);
  }
}

// ---- piano roll -----------------------------------------------------------------------------
const TRACK_COLOURS = ["#ffb74d", "#4fc3f7", "#aed581", "#f06292", "#ba68c8", "#4db6ac", "#fff176"];

function drawPianoRoll(canvas, roll) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.fillStyle = "#1e272c";
  ctx.fillRect(0, 0, width, height);
  const pitched = roll.notes.filter((n) => !roll.drums.includes(n.track));
  const drums = roll.notes.filter((n) => roll.drums.includes(n.track));
  const drumLane = drums.length ? 40 : 0;
  const duration = Math.max(roll.duration_s, 0.001);
  const x = (s) => (s / duration) * width;
  if (pitched.length) {
    const low = Math.min(...pitched.map((n) => n.pitch)) - 1;
    const high = Math.max(...pitched.map((n) => n.pitch)) + 1;
    const rowHeight = (height - drumLane) / (high - low + 1);
    for (const note of pitched) {
      ctx.fillStyle = TRACK_COLOURS[roll.tracks.indexOf(note.track) % TRACK_COLOURS.length];
      const y = (high - note.pitch) * rowHeight;
      ctx.fillRect(x(note.start_s), y, Math.max(x(note.end_s) - x(note.start_s), 1.5),
        Math.max(rowHeight - 1, 1.5));
    }
  }
  ctx.fillStyle = "#cfd8dc";
  for (const note of drums) {
    ctx.fillRect(x(note.start_s), height - drumLane + (note.pitch % 8) * 5, 2, 4);
  }
}

// ---- backing track --------------------------------------------------------------------------
async function loadStyles() {
  const select = document.getElementById("style");
  const styles = await api.json("GET", "/api/styles");
  for (const style of styles) {
    const option = document.createElement("option");
    option.value = style.name;
    option.textContent = style.name;
    option.title = style.description;
    if (style.name === "pop") option.selected = true;
    select.append(option);
  }
}

async function generateBacking(event) {
  event.preventDefault();
  const tempo = document.getElementById("tempo").value;
  const key = document.getElementById("key").value.trim();
  const params = {
    kind: "backing",
    chart: document.getElementById("chart").value,
    style: document.getElementById("style").value,
    seed: Number(document.getElementById("seed").value || 0),
    intro: document.getElementById("intro").checked,
    ending: document.getElementById("ending").checked,
  };
  if (tempo) params.tempo = Number(tempo);
  if (key) params.key = key;
  await followBacking(async () => (await api.json("POST", "/api/jobs", params)).id);
}

// Follow a backing job to its end and show it; `start()` gives its id (a new job's, or after a
// reload the one the page was following).
async function followBacking(start) {
  const status = document.getElementById("backing-status");
  const bar = document.getElementById("backing-progress");
  const result = document.getElementById("backing-result");
  const button = document.getElementById("generate");
  button.disabled = true;
  result.hidden = true;
  bar.hidden = false;
  bar.value = 0;
  try {
    setStatus(status, "Queued…");
    const id = await start();
    const job = await followFormJob("backing", id, status, (state, progress) => {
      setStatus(status, state === "queued" ? "Queued…" : `Rendering… ${Math.round(progress * 100)}%`);
      bar.value = progress;
    });
    bar.value = 1;
    const player = document.getElementById("player");
    player.src = api.fileUrl(id, "master.wav");
    fillDownloads(document.getElementById("downloads"), id, job.files);
    const roll = await api.json("GET", `/api/jobs/${id}/pianoroll`);
    // the status says Done before the results show: shown first, they sat under the last
    // progress report ("Rendering… 49%") while the piano roll loaded
    setStatus(status, `Done: ${roll.duration_s.toFixed(1)} s, ${roll.tracks.join(", ")}.`);
    result.hidden = false;
    drawPianoRoll(document.getElementById("pianoroll"), roll);
    document.body.dataset.backingJob = id;
  } catch (error) {
    showError(status, error);
  } finally {
    button.disabled = false;
    bar.hidden = true;
  }
}

// A finished master or mix job: its `${name}.wav` in the player, its `${name}.png` report, its
// downloads, then the result shown and the status Done (the forms' elements are named after it).
function showAudioResult(name, id, job, status) {
  document.getElementById(`${name}-player`).src = api.fileUrl(id, `${name}.wav`);
  document.getElementById(`${name}-plot`).src = api.fileUrl(id, `${name}.png`);
  fillDownloads(document.getElementById(`${name}-downloads`), id, job.files);
  document.getElementById(`${name}-result`).hidden = false;
  setStatus(status, "Done.");
}

// ---- mastering ------------------------------------------------------------------------------
const MASTER_ROWS = [
  ["integrated_lufs", "Integrated loudness (LUFS)"],
  ["true_peak_dbtp", "True peak (dBTP)"],
  ["loudness_range_lu", "Loudness range (LU)"],
  ["crest_factor_db", "Crest factor (dB)"],
];

async function master(event) {
  event.preventDefault();
  const status = document.getElementById("master-status");
  const file = document.getElementById("master-file").files[0];
  if (!file) return;
  await runForm(document.getElementById("master-go"), document.getElementById("master-result"), async () => {
    try {
      setStatus(status, "Uploading…");
      const input = await api.upload(file);
      const referenceFile = document.getElementById("master-reference").files[0];
      const reference = referenceFile ? await api.upload(referenceFile) : null;
      // a field left empty takes the server's default (Number("") would be 0: 0 LUFS, intensity 0)
      const value = (id) => {
        const text = document.getElementById(id).value.trim();
        return text === "" ? undefined : Number(text);
      };
      const { id } = await api.json("POST", "/api/jobs", {
        kind: "master", input, reference,
        target_lufs: value("target-lufs"), ceiling_dbtp: value("ceiling-dbtp"),
        intensity: value("master-intensity"),
        curve: document.getElementById("master-curve").value,
      });
      await finishMaster(id, status);
    } catch (error) {
      showError(status, error);
    }
  });
}

// Follow a master job to its end and show its before/after table, player and downloads.
async function finishMaster(id, status) {
  const job = await followFormJob("master", id, status, (state) => setStatus(status, `${state}…`));
  const report = await api.json("GET", api.fileUrl(id, "master.json"));
  const body = document.querySelector("#master-table tbody");
  body.replaceChildren();
  for (const [key, label] of MASTER_ROWS) {
    const row = document.createElement("tr");
    for (const text of [label, report.before[key], report.after[key]]) {
      const cell = document.createElement("td");
      cell.textContent = typeof text === "number" ? text.toFixed(1) : text ?? "–";
      row.append(cell);
    }
    body.append(row);
  }
  showAudioResult("master", id, job, status);
}

// ---- melody, harmonize, continue ------------------------------------------------------------
async function compose(event) {
  event.preventDefault();
  const status = document.getElementById("compose-status");
  const kind = document.getElementById("compose-kind").value;
  const seed = Number(document.getElementById("compose-seed").value || 0);
  await runForm(document.getElementById("compose-go"), document.getElementById("compose-result"), async () => {
    try {
      const params = { kind, seed };
      // auto sends no style: the server's default, as the CLI's (continue always sent one, so
      // the page could not ask for the style the model finds likeliest)
      const style = document.getElementById("compose-style").value;
      if (kind === "melody") {
        params.chart = document.getElementById("compose-chart").value;
        if (style) params.style = style;
      } else {
        const file = document.getElementById("compose-file").files[0];
        if (!file) throw new Error("Choose a MIDI or MusicXML file first.");
        setStatus(status, "Uploading…");
        params.input = await api.upload(file);
        if (kind === "continue") {
          params.bars = Number(document.getElementById("compose-bars").value);
          if (style) params.style = style;
        }
      }
      setStatus(status, "Queued…");
      const { id } = await api.json("POST", "/api/jobs", params);
      await finishCompose(id, status);
    } catch (error) {
      showError(status, error);
    }
  });
}

// Follow a melody, harmonize or continue job to its end and show its notes and downloads.
async function finishCompose(id, status) {
  const job = await followFormJob("compose", id, status, (state) => setStatus(status, `${state}…`));
  fillDownloads(document.getElementById("compose-downloads"), id, job.files);
  document.getElementById("compose-result").hidden = false;
  const roll = await api.json("GET", `/api/jobs/${id}/pianoroll`);
  drawPianoRoll(document.getElementById("compose-roll"), roll);
  setStatus(status, `Done: ${roll.notes.length} notes, ${roll.duration_s.toFixed(1)} s.`);
}

// ---- chords ---------------------------------------------------------------------------------
// For a chosen melody: charts that fit it (in the key field's key, if given); with none: the
// style's progressions in the key, over the bars. Style and bars are not sent with a melody (the
// studio refuses them there: they would be ignored).
async function suggestChords(event) {
  event.preventDefault();
  const status = document.getElementById("chords-status");
  await runForm(document.getElementById("chords-go"), document.getElementById("chords-result"), async () => {
    try {
      const params = { kind: "chords", count: Number(document.getElementById("chords-count").value || 5) };
      const key = document.getElementById("chords-key").value.trim();
      if (key) params.key = key;
      const file = document.getElementById("chords-file").files[0];
      if (file) {
        setStatus(status, "Uploading…");
        params.input = await api.upload(file);
      } else {
        params.style = document.getElementById("chords-style").value;
        params.bars = Number(document.getElementById("chords-bars").value || 8);
      }
      setStatus(status, "Queued…");
      const { id } = await api.json("POST", "/api/jobs", params);
      await finishChords(id, status);
    } catch (error) {
      showError(status, error);
    }
  });
}

// Follow a chords job to its end and show its suggestions.
async function finishChords(id, status) {
  const job = await followFormJob("chords", id, status, (state) => setStatus(status, `${state}…`));
  const suggestions = await api.json("GET", api.fileUrl(id, "chords.json"));
  const warning = document.getElementById("chords-warning");
  warning.hidden = !job.files.includes("warning.txt");
  if (!warning.hidden) {
    warning.textContent = (await (await fetch(api.fileUrl(id, "warning.txt"))).text()).trim();
  }
  showSuggestions(suggestions);
  document.getElementById("chords-result").hidden = false;
  setStatus(status, `Done: ${suggestions.length} suggestion${suggestions.length === 1 ? "" : "s"}.`);
}

function showSuggestions(suggestions) {
  const list = document.getElementById("chords-list");
  list.replaceChildren();
  for (const suggestion of suggestions) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = `${suggestion.name} (score ${suggestion.score.toFixed(2)})`;
    const chart = document.createElement("code");
    chart.textContent = suggestion.chart;
    const use = document.createElement("button");
    use.type = "button";
    use.textContent = "Use for a backing track";
    use.addEventListener("click", () => useChart(suggestion.chart));
    li.append(name, chart, use);
    list.append(li);
  }
}

// The chart states its key, so the backing's key field is emptied (a key there transposes it).
function useChart(chart) {
  document.getElementById("chart").value = chart;
  document.getElementById("key").value = "";
  const section = document.getElementById("backing");
  section.scrollIntoView({ behavior: "smooth" });
  document.getElementById("chart").focus({ preventScroll: true });
}

// ---- mixing ---------------------------------------------------------------------------------
// The mixer's roles, as bandmate.mix.automix.ROLES (the studio refuses any other).
const MIX_ROLES = ["drums", "bass", "keys", "guitar", "pad", "lead", "vocal"];

function labelled(text, control) {
  const label = document.createElement("label");
  label.append(text, control);
  return label;
}

// One group per chosen stem, named by its file: a role and a level in dB under the loudest
// element, each left to the mixer until set (the mixer undoes any gain a stem comes in at, so a
// level here is the only way to set a part back).
function showStemSettings() {
  const files = [...document.getElementById("mix-files").files];
  const list = document.getElementById("mix-stems");
  list.replaceChildren();
  files.forEach((file, i) => {
    const group = document.createElement("fieldset");
    group.className = "stem row";
    const legend = document.createElement("legend");
    legend.textContent = file.name;
    const role = document.createElement("select");
    role.id = `mix-role-${i}`;
    for (const name of ["", ...MIX_ROLES]) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name || "auto";
      role.append(option);
    }
    const level = document.createElement("input");
    Object.assign(level, {
      id: `mix-level-${i}`, type: "number", min: -40, max: 0, step: 0.5, placeholder: "auto",
      title: "0 for the loudest, -6 for 6 dB under it; empty for the mixer's level",
    });
    group.append(legend, labelled("Role ", role), labelled("Level (dB under the loudest) ", level));
    list.append(group);
  });
  document.getElementById("mix-balance").hidden = !files.length;
}

// The roles and levels set in the stems' rows, keyed by the uploads' ids (`stems`, in the files'
// order); a row left on auto is not sent.
function stemSettings(stems) {
  const roles = {};
  const levels = {};
  stems.forEach((id, i) => {
    const role = document.getElementById(`mix-role-${i}`).value;
    const level = document.getElementById(`mix-level-${i}`).value.trim();
    if (role) roles[id] = role;
    if (level !== "") levels[id] = Number(level);
  });
  return { roles, levels };
}

async function mix(event) {
  event.preventDefault();
  const status = document.getElementById("mix-status");
  await runForm(document.getElementById("mix-go"), document.getElementById("mix-result"), async () => {
    try {
      const files = [...document.getElementById("mix-files").files];
      if (!files.length) throw new Error("Choose the stems first.");
      setStatus(status, "Uploading…");
      const stems = [];
      for (const file of files) stems.push(await api.upload(file));
      const { id } = await api.json("POST", "/api/jobs", { kind: "mix", stems, ...stemSettings(stems) });
      await finishMix(id, status);
    } catch (error) {
      showError(status, error);
    }
  });
}

// Follow a mix job to its end and show the mix, its plot and downloads.
async function finishMix(id, status) {
  const job = await followFormJob("mix", id, status, (state) => setStatus(status, `${state}…`));
  showAudioResult("mix", id, job, status);
}

// Follow again the jobs the page was following when it was reloaded (see `rememberJob`).
function resumeJobs() {
  const stored = (form) => {
    try { return sessionStorage.getItem(JOB_KEY(form)); } catch (e) { return null; }
  };
  const backing = stored("backing");
  if (backing) followBacking(async () => backing);
  for (const [form, finish] of [
    ["master", finishMaster], ["compose", finishCompose], ["chords", finishChords], ["mix", finishMix],
  ]) {
    const id = stored(form);
    if (!id) continue;
    const status = document.getElementById(`${form}-status`);
    runForm(document.getElementById(`${form}-go`), document.getElementById(`${form}-result`), async () => {
      try {
        await finish(id, status);
      } catch (error) {
        showError(status, error);
      }
    });
  }
}

document.getElementById("compose-form").addEventListener("submit", compose);
document.getElementById("chords-form").addEventListener("submit", suggestChords);
document.getElementById("mix-form").addEventListener("submit", mix);
document.getElementById("mix-files").addEventListener("change", showStemSettings);
showStemSettings();  // files a reload kept
document.getElementById("backing-form").addEventListener("submit", generateBacking);
document.getElementById("master-form").addEventListener("submit", master);
loadStyles().catch((error) => setStatus(document.getElementById("backing-status"), error.message, true));
resumeJobs();
