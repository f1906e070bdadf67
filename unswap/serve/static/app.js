// The unswap page: uploads files to this server, follows each scan, lists the history.
// Everything it shows from the server goes through textContent, never as HTML.
"use strict";

const VERDICT = {
  "fake": "Likely face-swapped",
  "real": "No sign of a face swap",
  "uncertain": "Too close to call",
  "no-face": "No face found, so nothing could be checked",
};
const MEANS = {
  "fake": "The detector found the traces face-swap tools leave. It is evidence, not proof: open the report.",
  "real": "The detector found no such traces. That does not prove the file is authentic.",
  "uncertain": "The score sits at the detector's threshold. Look at the moments in the report.",
  "no-face": "No face large and clear enough was seen.",
};
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

function verdictText(result) {
  const words = VERDICT[result.label] || result.label;
  return result.p_fake === null ? words : `${words} (p_fake ${result.p_fake.toFixed(2)}, threshold ${result.threshold.toFixed(2)})`;
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
      const v = el("p", "verdict " + s.result.label, verdictText(s.result));
      item.append(v, el("p", "line", MEANS[s.result.label] || ""), reportLink(id));
      loadHistory();
      return;
    }
    if (s.status === "failed") {
      line.textContent = "failed: " + s.error;
      line.classList.add("error");
      loadHistory();
      return;
    }
    line.textContent = progressText(s);
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
  const item = el("li");
  item.append(el("div", "name", file.name), el("div", "line", "uploading"));
  document.getElementById("uploads").prepend(item);
  const form = new FormData();
  form.append("file", file, file.name);
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
    const result = s.status === "done" ? (VERDICT[s.label] || s.label) + (s.p_fake === null ? "" : ` (p_fake ${s.p_fake.toFixed(2)})`)
                 : s.status === "failed" ? "failed: " + s.error : progressText(s);
    const tdResult = el("td", s.status === "done" ? s.label : "", result);
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

async function start() {
  try {
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
