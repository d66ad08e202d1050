// dlcv vision page: send the chosen photo to POST /v1/images:annotate with
// every feature the server offers and show each in a tab, as Cloud
// Vision's demo does: Objects, Labels, Web, Properties, Safe Search,
// then Faces and Text. Boxes and landmarks of the open tab are drawn over
// the photo; each tab ends with the JSON it shows. Plain DOM, no libraries.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#2f6fed", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599", "#e67700", "#5c940d"];
// The tabs, in the demo's order: the feature each shows and its field.
const TABS = [
  { id: "objects", type: "OBJECT_LOCALIZATION", max: 20, field: "localizedObjectAnnotations" },
  { id: "labels", type: "LABEL_DETECTION", max: 10, field: "labelAnnotations" },
  { id: "web", type: "WEB_DETECTION", max: 10, field: "webDetection" },
  { id: "properties", type: "IMAGE_PROPERTIES", max: 8, field: "imagePropertiesAnnotation" },
  { id: "safesearch", type: "SAFE_SEARCH_DETECTION", field: "safeSearchAnnotation" },
  { id: "faces", type: "FACE_DETECTION", max: 20, field: "faceAnnotations" },
  { id: "text", type: "TEXT_DETECTION", field: "textAnnotations" },
];
const LIKELIHOODS = ["VERY_UNLIKELY", "UNLIKELY", "POSSIBLE", "LIKELY", "VERY_LIKELY"];
let server = null; // {features: [...], off: {TYPE: why}} from /healthz
// A server started with --api-key-file needs the key: open the page as
// /?key=KEY and it is passed on to the API.
const apiKey = new URLSearchParams(location.search).get("key");
let last = {}; // the image's response
let current = "objects";

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function showError(msg) {
  const box = $("error");
  box.textContent = msg;
  box.hidden = !msg;
  if (msg) {
    $("status").textContent = "";
    $("result").hidden = true; // no stale results beside an error
  }
}

function selectTab(name) {
  current = name;
  for (const t of TABS) {
    $("tab-" + t.id).setAttribute("aria-selected", String(t.id === name));
    $(t.id).hidden = t.id !== name;
  }
  draw();
}

async function serverInfo() {
  if (server) return server;
  try {
    const r = await fetch("/healthz");
    const j = await r.json();
    server = { features: j.features || [], off: j.off || {} };
  } catch (e) {
    server = { features: ["LABEL_DETECTION", "IMAGE_PROPERTIES", "FACE_DETECTION"], off: {} };
  }
  return server;
}

function readAsDataURL(file) {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(fr.result);
    fr.onerror = () => reject(fr.error || new Error("cannot read the file"));
    fr.readAsDataURL(file);
  });
}

async function annotate(file) {
  showError("");
  if (!file) return;
  $("status").textContent = "Reading " + file.name + "…";
  let dataURL;
  try {
    dataURL = await readAsDataURL(file);
  } catch (e) {
    showError("Could not read " + file.name + ": " + e.message);
    return;
  }
  const img = $("preview");
  last = {};
  draw(); // clear the previous photo's boxes
  img.onload = draw;
  img.src = dataURL;
  $("caption").textContent = file.name + " · " + (file.size / 1024).toFixed(0) + " KB";
  $("result").hidden = false;
  for (const t of TABS) $(t.id).replaceChildren();

  const info = await serverInfo();
  const want = TABS.filter((t) => info.features.includes(t.type)).map((t) => (t.max ? { type: t.type, maxResults: t.max } : { type: t.type }));
  const body = JSON.stringify({
    requests: [{ image: { content: dataURL.slice(dataURL.indexOf(",") + 1) }, features: want }],
  });
  $("status").textContent = "Annotating…";
  const t0 = performance.now();
  let resp, json;
  try {
    const url = "/v1/images:annotate" + (apiKey ? "?key=" + encodeURIComponent(apiKey) : "");
    resp = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    json = await resp.json();
  } catch (e) {
    showError("The server did not answer" + (resp ? " (HTTP " + resp.status + ")" : "") + ": " + e.message);
    return;
  }
  const ms = Math.round(performance.now() - t0);
  if (json.error) {
    showError("Error " + json.error.code + " (" + (json.error.status || "") + "): " + json.error.message);
    return;
  }
  const r = (json.responses || [])[0] || {};
  if (r.error) {
    showError("This image could not be annotated (" + (r.error.status || "error " + r.error.code) + "): " + r.error.message);
    return;
  }
  last = r;
  $("status").textContent = "Annotated in " + ms + " ms.";
  for (const t of TABS) {
    const p = $(t.id);
    if (!info.features.includes(t.type)) {
      p.append(el("p", "empty off", offMessage(t, info)));
      continue;
    }
    RENDER[t.id](p, r[t.field]);
    const d = el("details", "json");
    d.append(el("summary", "", "JSON"), el("pre", "", JSON.stringify({ [t.field]: r[t.field] ?? null }, null, 2)));
    p.append(d);
  }
  draw();
}

function offMessage(t, info) {
  const name = $("tab-" + t.id).textContent;
  const why = info.off[t.type];
  return name + " is off on this server" + (why ? ": " + why : " (dlcv does not compute " + t.type + " yet).");
}

function pct(x) {
  return (100 * x).toFixed(x >= 0.995 || x < 0.1 ? 1 : 0) + "%";
}

function scoreRow(name, score, color) {
  const row = el("div", "row label");
  const n = el("span", "name label-name", name);
  if (color) n.style.borderLeft = "4px solid " + color;
  if (color) n.style.paddingLeft = "6px";
  row.append(n);
  const bar = el("div", "bar");
  const fill = el("div");
  fill.style.width = Math.max(0.5, 100 * score).toFixed(1) + "%";
  if (color) fill.style.background = color;
  bar.append(fill);
  row.append(bar, el("span", "pct", pct(score)));
  return row;
}

function nice(s) {
  return String(s || "").replace(/_/g, " ").toLowerCase();
}

function likelihoodRow(grid, name, value) {
  grid.append(el("span", "", name));
  const m = el("div", "meter");
  const k = LIKELIHOODS.indexOf(value);
  LIKELIHOODS.forEach((_, i) => {
    const s = el("span", i <= k ? "on" : "");
    m.append(s);
  });
  grid.append(m, el("span", value === "UNKNOWN" || !value ? "unknown" : "", value === "UNKNOWN" || !value ? "unknown" : nice(value)));
}

const RENDER = {
  objects(p, objs) {
    objs = objs || [];
    p.append(el("p", "", objs.length === 1 ? "1 object" : objs.length + " objects"));
    objs.forEach((o, i) => p.append(scoreRow(o.name, o.score, COLORS[i % COLORS.length])));
  },
  labels(p, labels) {
    if (!labels || !labels.length) return p.append(el("p", "empty", "No labels."));
    for (const l of labels) p.append(scoreRow(l.description, l.score));
  },
  web(p, w) {
    if (!w) return p.append(el("p", "empty", "No similar images."));
    if (w.bestGuessLabels && w.bestGuessLabels.length) p.append(el("p", "", "Best guess: " + w.bestGuessLabels[0].label));
    for (const e of w.webEntities || []) p.append(scoreRow(e.description, e.score));
    const groups = [["Full matches", w.fullMatchingImages], ["Partial matches", w.partialMatchingImages], ["Visually similar images", w.visuallySimilarImages]];
    for (const [title, imgs] of groups) {
      if (!imgs || !imgs.length) continue;
      p.append(el("h4", "", title));
      const ul = el("ul", "similar");
      for (const m of imgs) ul.append(el("li", "", m.url + " · " + m.score.toFixed(3)));
      p.append(ul);
    }
  },
  properties(p, props) {
    const colors = (props && props.dominantColors && props.dominantColors.colors) || [];
    if (!colors.length) return p.append(el("p", "empty", "No colours."));
    const strip = el("div", "strip");
    const grid = el("div", "swatches");
    for (const c of colors) {
      const h = hex(c.color);
      const seg = el("div");
      seg.style.background = h;
      seg.style.flex = String(c.pixelFraction);
      strip.append(seg);
      const sw = el("div", "swatch");
      const chip = el("div", "chip");
      chip.style.background = h;
      sw.append(chip, el("div", "", h + " · " + pct(c.pixelFraction)));
      grid.append(sw);
    }
    p.append(strip, grid);
  },
  safesearch(p, s) {
    if (!s) return p.append(el("p", "empty", "No answer."));
    const grid = el("div", "likelihoods");
    for (const k of ["adult", "spoof", "medical", "violence", "racy"]) likelihoodRow(grid, k[0].toUpperCase() + k.slice(1), s[k]);
    p.append(grid);
    if (s.classScores) {
      const parts = Object.entries(s.classScores).map(([k, v]) => k + " " + pct(v));
      p.append(el("p", "kv", "Classifier: " + parts.join(", ") + ". Categories it cannot judge are unknown."));
    }
  },
  faces(p, faces) {
    faces = faces || [];
    p.append(el("p", "", faces.length === 1 ? "1 face" : faces.length + " faces"));
    faces.forEach((f, i) => {
      const row = el("div", "face");
      const num = el("span", "num", String(i + 1));
      num.style.background = COLORS[i % COLORS.length];
      const v = (f.fdBoundingPoly || f.boundingPoly).vertices;
      let what = "confidence " + pct(f.detectionConfidence) + " · " + (v[1].x - v[0].x) + "×" + (v[2].y - v[1].y) + " px at (" + v[0].x + ", " + v[0].y + ")";
      if (f.landmarks) what += " · roll " + (f.rollAngle || 0).toFixed(1) + "°";
      row.append(num, el("span", "", what));
      p.append(row);
      const grid = el("div", "likelihoods");
      likelihoodRow(grid, "Joy", f.joyLikelihood);
      likelihoodRow(grid, "Sorrow", f.sorrowLikelihood);
      likelihoodRow(grid, "Anger", f.angerLikelihood);
      likelihoodRow(grid, "Surprise", f.surpriseLikelihood);
      p.append(grid);
      if (f.joyProbability !== undefined) p.append(el("p", "kv", "joy: " + pct(f.joyProbability) + " smiling (smile model)"));
    });
  },
  text(p, t) {
    if (!t || !t.length) return p.append(el("p", "empty", "No text."));
    p.append(el("pre", "", t[0].description));
  },
};

function hex(c) {
  return "#" + [c.red, c.green, c.blue].map((v) => Math.round(v || 0).toString(16).padStart(2, "0")).join("");
}

// draw draws the open tab's boxes and landmarks over the photo at its
// displayed size.
function draw() {
  const img = $("preview"), cv = $("overlay");
  const w = img.clientWidth, h = img.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.round(w * dpr);
  cv.height = Math.round(h * dpr);
  cv.style.width = w + "px";
  cv.style.height = h + "px";
  const ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  if (!img.naturalWidth) return;
  const s = (w / img.naturalWidth) * dpr;
  ctx.lineWidth = Math.max(2, 3 * dpr);
  ctx.font = "600 " + Math.round(13 * dpr) + "px system-ui, sans-serif";
  const box = (x, y, bw, bh, color, tag) => {
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, bw, bh);
    const tw = ctx.measureText(tag).width + 8 * dpr;
    const ty = Math.max(0, y - 18 * dpr);
    ctx.fillStyle = color;
    ctx.fillRect(x, ty, tw, 18 * dpr);
    ctx.fillStyle = "#fff";
    ctx.fillText(tag, x + 4 * dpr, ty + 13 * dpr);
  };
  if (current === "objects") {
    (last.localizedObjectAnnotations || []).forEach((o, i) => {
      const v = o.boundingPoly.normalizedVertices;
      const W = w * dpr, H = h * dpr;
      box(v[0].x * W, v[0].y * H, (v[2].x - v[0].x) * W, (v[2].y - v[0].y) * H, COLORS[i % COLORS.length], o.name + " " + o.score.toFixed(2));
    });
  }
  if (current === "faces") {
    (last.faceAnnotations || []).forEach((f, i) => {
      const color = COLORS[i % COLORS.length];
      const v = (f.fdBoundingPoly || f.boundingPoly).vertices;
      box(v[0].x * s, v[0].y * s, (v[2].x - v[0].x) * s, (v[2].y - v[0].y) * s, color, String(i + 1));
      ctx.fillStyle = "#ffd43b";
      for (const l of f.landmarks || []) {
        ctx.beginPath();
        ctx.arc(l.position.x * s, l.position.y * s, 3 * dpr, 0, 2 * Math.PI);
        ctx.fill();
      }
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const drop = $("drop"), input = $("file");
  input.addEventListener("change", () => annotate(input.files[0]));
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const ev of ["dragleave", "drop"]) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.remove("over"); });
  }
  drop.addEventListener("drop", (e) => {
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) annotate(f);
  });
  // Dropping a file anywhere else must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  for (const t of TABS) $("tab-" + t.id).addEventListener("click", () => selectTab(t.id));
  window.addEventListener("resize", draw);
  serverInfo();
});
