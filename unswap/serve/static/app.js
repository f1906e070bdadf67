// The unswap page: uploads files to this server, follows each scan, lists the history.
// Everything it shows from the server goes through textContent, never as HTML.
"use strict";

// Every word of a verdict comes from the server (unswap/vocabulary.py): a result carries
// its own words, and /api/vocabulary gives each label's headline for the history.
let vocabulary = {headlines: {}, detectors: [], default_sample_fps: 2};
const PAGE = 20;
let token = sessionStorage.getItem("unswap_token") || "";
let historyShown = PAGE;
let historyTimer = null;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

async function api(method, path, body) {
  const headers = token ? {"Authorization": "Bearer " + token} : {};
  const r = await fetch(path, {method, headers, body});
  if (r.status === 401) {
    askToken("The token was not accepted.");
    throw new Error("this server needs its access token");
  }
  const data = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error((data && data.message) || ("HTTP " + r.status));
  return data;
}

function askToken(message) {
  document.getElementById("auth").hidden = false;
  document.getElementById("auth-msg").textContent = message || "";
}

function saveToken() {
  token = document.getElementById("token").value.trim();
  sessionStorage.setItem("unswap_token", token);
  // the report opens in a new tab, which cannot send the header: the server reads this cookie there
  document.cookie = "unswap_token=" + encodeURIComponent(token) + "; path=/; SameSite=Strict";
  document.getElementById("auth").hidden = true;
  start();
}

function headline(label) {
  return vocabulary.headlines[label] || label;
}

function said(cls, lead, text) {
  const p = el("p", cls);
  p.append(el("strong", "", lead + " "), document.createTextNode(text));
  return p;
}

function picture(src, alt, cls) {
  const img = el("img", cls);
  img.src = src;
  img.alt = alt;
  return img;
}

// A finished scan as the report tells it: the verdict in words, then each face with
// its verdict, when, and its moments (the face, and the region map where it is judged swapped).
function showResult(item, r, d, id) {
  const w = r.words;
  const box = el("div", "verdict " + r.label);
  box.append(el("p", "headline", w.headline + (w.score ? ` (${w.score})` : "")),
             said("means", "What this means.", w.means));
  if (w.rates) box.append(said("rates", "How reliable.", w.rates));
  box.append(said("not-means", "What it does not mean.", w.not_means),
             said("next", "What to do next.", w.next));
  if (d.provenance) box.append(el("p", "provenance", d.provenance));
  item.append(box);
  const more = el("div", "details");
  if (d.timeline) more.append(el("h3", "", "When: p_fake over time (shaded: judged swapped)"),
                              picture(d.timeline, "p_fake over time for each face", "timeline"));
  for (const f of d.faces) {
    const face = el("section", "face");
    face.dataset.track = f.track_id;
    face.append(el("h3", "verdict " + f.label, `Face ${f.track_id}: ${f.headline} (${f.score})`), el("p", "when", f.when));
    const row = el("div", "moments");
    for (const m of f.moments) {
      const fig = el("figure", m.region ? "moment overlay" : "moment");
      fig.append(picture(m.face, `face ${f.track_id} at ${m.when}`));
      if (m.region) fig.append(picture(m.region, `face ${f.track_id} at ${m.when}, region map`, "region"));
      const cap = el("figcaption", "", `${m.when}: p_fake ${m.p_fake}`);
      cap.append(el("small", "", m.note));
      fig.append(cap);
      row.append(fig);
    }
    face.append(row);
    more.append(face);
  }
  for (const f of d.frames) {
    const fig = el("figure", "frame");
    fig.append(picture(f.image, f.what + " with face boxes"), el("figcaption", "", f.what + ": each box is labelled with its face"));
    more.append(fig);
  }
  item.append(more, reportLink(id));
}

function reportLink(id) {
  const a = el("a", "report", "Open the evidence report");
  a.href = `/api/scans/${id}/report`;
  a.target = "_blank";
  a.rel = "noopener";
  return a;
}

function progressText(s) {
  if (s.status === "queued") return "queued: waiting for a free worker";
  if (s.status === "running") {
    const p = s.progress;
    return p.frames_expected ? `decoding and scoring: frame ${p.frames_done} of ${p.frames_expected}`
                             : `decoding and scoring: frame ${p.frames_done}`;
  }
  return s.status;
}

async function follow(item, id) {
  const line = item.querySelector(".line");
  for (;;) {
    let s;
    try {
      s = await api("GET", `/api/scans/${id}`);
    } catch (e) {
      line.textContent = "could not follow the scan: " + e.message;
      line.classList.add("error");
      return;
    }
    if (s.status === "done") {
      line.textContent = "done";
      let details = {faces: [], frames: []};
      try {
        details = await api("GET", `/api/scans/${id}/details`);
      } catch (e) { /* deleted meanwhile: the verdict alone */ }
      showResult(item, s.result, details, id);
      loadHistory();
      return;
    }
    if (s.status === "failed") {
      line.textContent = `${headline("failed")}: ${s.error}`;
      line.classList.add("error");
      loadHistory();
      return;
    }
    line.textContent = progressText(s);
    // the history row says what the card says, not what it said a second ago
    const cell = document.querySelector(`#history tr[data-id='${id}'] td.result`);
    if (cell) cell.textContent = line.textContent;
    await new Promise(r => setTimeout(r, 400));
  }
}

function showHashes(item, data) {
  const h = data.hashes;
  const line = item.querySelector(".line");
  line.textContent = `hashed ${h.frames.length} frame(s); SHA-256 ${h.sha256}; the file was deleted`;
  if (data.match) {
    const n = data.match.matches.length;
    item.append(el("p", "verdict", n ? `Found in ${n} of ${data.match.sources_compared} library source(s): ` +
      data.match.matches.map(m => m.path).join(", ") : `Not found in the library (${data.match.sources_compared} source(s))`));
  } else {
    item.append(el("p", "line", "No library loaded on this server (unswap serve --library HASHES), so no match."));
  }
  const d = el("details");
  d.append(el("summary", "", "hashes (docs/hash-format.md)"), el("pre", "", data.text));
  item.append(d);
}

async function upload(file) {
  const hashOnly = document.getElementById("hash-only").checked;
  document.getElementById("session-empty").hidden = true;
  const item = el("li");
  item.append(el("div", "name", file.name), el("div", "line", "uploading"));
  document.getElementById("uploads").prepend(item);
  const form = new FormData();
  form.append("file", file, file.name);
  // the choices, once the page has them (a file dropped sooner scans with the server's defaults)
  for (const [field, id] of [["detector", "detector"], ["sample_fps", "sample-fps"]]) {
    const value = document.getElementById(id).value;
    if (!hashOnly && value) form.append(field, value);
  }
  try {
    if (hashOnly) {
      showHashes(item, await api("POST", "/api/hash", form));
      return;
    }
    const {id} = await api("POST", "/api/scans", form);
    item.dataset.id = id;
    item.querySelector(".line").textContent = "queued";
    loadHistory();
    await follow(item, id);
  } catch (e) {
    const line = item.querySelector(".line");
    line.textContent = "refused: " + e.message;
    line.classList.add("error");
  }
}

function uploadAll(files) {
  for (const f of files) upload(f);
}

async function loadHistory() {
  let page;
  try {
    page = await api("GET", `/api/scans?limit=${historyShown}`);
  } catch (e) {
    return;
  }
  const body = document.querySelector("#history tbody");
  body.replaceChildren();
  for (const s of page.items) {
    const tr = el("tr");
    tr.dataset.id = s.id;
    const result = s.status === "done" ? headline(s.label) : s.status === "failed" ? `${headline("failed")}: ${s.error}` : progressText(s);
    const tdResult = el("td", "result" + (s.status === "done" ? " " + s.label : ""), result);
    const actions = el("td");
    if (s.status === "done") actions.append(reportLink(s.id), document.createTextNode(" "));
    const del = el("button", "delete", "Delete");
    del.type = "button";
    del.addEventListener("click", async () => {
      try {
        await api("DELETE", `/api/scans/${s.id}`);
      } catch (e) { /* already gone: the reload shows it */ }
      loadHistory();
    });
    actions.append(del);
    tr.append(el("td", "file", s.name), tdResult, el("td", "", (s.finished || s.created).replace("T", " ").replace("+00:00", " UTC")), actions);
    body.append(tr);
  }
  document.getElementById("history-more").hidden = page.total <= page.items.length;
  // scans still waiting or running (from this page or another client): look again soon
  clearTimeout(historyTimer);
  if (page.items.some(s => s.status === "queued" || s.status === "running")) {
    historyTimer = setTimeout(loadHistory, 1000);
  }
}

function showChoices() {
  const pick = document.getElementById("detector");
  for (const d of vocabulary.detectors) {
    const o = el("option", "", d.name + (d.name === vocabulary.default_detector ? " (default)" : ""));
    o.value = d.name;
    o.title = d.about.join(" ");
    o.selected = d.name === vocabulary.default_detector;
    pick.append(o);
  }
  const about = () => {
    const d = vocabulary.detectors.find(x => x.name === pick.value);
    document.getElementById("detector-about").textContent = d ? d.about.join(" ") : "";
  };
  pick.addEventListener("change", about);
  about();
  document.getElementById("sample-fps").value = vocabulary.default_sample_fps;
}

async function start() {
  try {
    vocabulary = await api("GET", "/api/vocabulary");
    showChoices();
    const cfg = await api("GET", "/api/config");
    if (cfg.keep_media) {
      document.getElementById("keep").textContent = "This server was started with --keep-media: " +
        "uploaded files are kept in its data folder after their scan, until the scan is deleted here.";
    }
  } catch (e) {
    return;
  }
  loadHistory();
}

document.addEventListener("DOMContentLoaded", async () => {
  document.getElementById("origin").textContent = location.origin;
  const drop = document.getElementById("drop");
  const input = document.getElementById("files");
  input.addEventListener("change", () => { uploadAll(input.files); input.value = ""; });
  drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); uploadAll(e.dataTransfer.files); });
  document.getElementById("token-save").addEventListener("click", saveToken);
  document.getElementById("token").addEventListener("keydown", e => { if (e.key === "Enter") saveToken(); });
  document.getElementById("more").addEventListener("click", () => { historyShown += PAGE; loadHistory(); });
  const health = await (await fetch("/healthz")).json();
  if (health.token_required && !token) askToken();
  else start();
});
