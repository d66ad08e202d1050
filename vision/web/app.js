// dlcv vision page: send the chosen photo to POST /v1/images:annotate and
// show labels, dominant colours and faces. Plain DOM, no libraries.
"use strict";

const $ = (id) => document.getElementById(id);
const FACE_COLORS = ["#2f6fed", "#e8590c", "#2b8a3e", "#c2255c", "#7048e8", "#0c8599"];
let available = null; // feature types the server offers (from /healthz)
// A server started with --api-key-file needs the key: open the page as
// /?key=KEY and it is passed on to the API.
const apiKey = new URLSearchParams(location.search).get("key");
let lastFaces = [];

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
  for (const t of ["labels", "properties", "faces"]) {
    $("tab-" + t).setAttribute("aria-selected", String(t === name));
    $(t).hidden = t !== name;
  }
}

async function features() {
  if (available) return available;
  try {
    const r = await fetch("/healthz");
    available = (await r.json()).features || [];
  } catch (e) {
    available = ["LABEL_DETECTION", "IMAGE_PROPERTIES", "FACE_DETECTION"];
  }
  return available;
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
  lastFaces = [];
  drawFaces(); // clear the previous photo's boxes
  img.onload = drawFaces;
  img.src = dataURL;
  $("caption").textContent = file.name + " · " + (file.size / 1024).toFixed(0) + " KB";
  $("result").hidden = false;
  for (const p of ["labels", "properties", "faces"]) $(p).replaceChildren();

  const have = await features();
  const want = [
    { type: "LABEL_DETECTION", maxResults: 10 },
    { type: "IMAGE_PROPERTIES", maxResults: 8 },
    { type: "FACE_DETECTION", maxResults: 20 },
  ].filter((f) => have.includes(f.type));
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
  $("status").textContent = "Annotated in " + ms + " ms.";
  renderLabels(r.labelAnnotations, have.includes("LABEL_DETECTION"));
  renderColors(r.imagePropertiesAnnotation, have.includes("IMAGE_PROPERTIES"));
  lastFaces = r.faceAnnotations || [];
  renderFaces(lastFaces, have.includes("FACE_DETECTION"));
  drawFaces();
}

function pct(x) {
  return (100 * x).toFixed(x >= 0.995 || x < 0.1 ? 1 : 0) + "%";
}

function renderLabels(labels, on) {
  const p = $("labels");
  if (!on) return p.append(el("p", "empty", "Labels are off on this server (start it with --model)."));
  if (!labels || !labels.length) return p.append(el("p", "empty", "No labels."));
  for (const l of labels) {
    const row = el("div", "row label");
    row.append(el("span", "name label-name", l.description));
    const bar = el("div", "bar");
    const fill = el("div");
    fill.style.width = Math.max(0.5, 100 * l.score).toFixed(1) + "%";
    bar.append(fill);
    row.append(bar, el("span", "pct", pct(l.score)));
    p.append(row);
  }
}

function hex(c) {
  return "#" + [c.red, c.green, c.blue].map((v) => Math.round(v || 0).toString(16).padStart(2, "0")).join("");
}

function renderColors(props, on) {
  const p = $("properties");
  if (!on) return p.append(el("p", "empty", "Image properties are off on this server."));
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
}

function renderFaces(faces, on) {
  const p = $("faces");
  if (!on) return p.append(el("p", "empty", "Face detection is off on this server (start it with --cascade)."));
  p.append(el("p", "", faces.length === 1 ? "1 face" : faces.length + " faces"));
  faces.forEach((f, i) => {
    const row = el("div", "face");
    const num = el("span", "num", String(i + 1));
    num.style.background = FACE_COLORS[i % FACE_COLORS.length];
    let joy = "joy: " + f.joyLikelihood.replace(/_/g, " ").toLowerCase();
    if (f.joyProbability !== undefined) joy += " (" + pct(f.joyProbability) + " smiling)";
    if (f.joyLikelihood === "UNKNOWN") joy = "joy: unknown (no smile model on this server)";
    const v = f.boundingPoly.vertices;
    row.append(num, el("span", "", joy + " · " + (v[1].x - v[0].x) + "×" + (v[2].y - v[1].y) + " px at (" + v[0].x + ", " + v[0].y + ")"));
    p.append(row);
  });
}

// drawFaces draws the face boxes over the photo at its displayed size.
function drawFaces() {
  const img = $("preview"), cv = $("overlay");
  const w = img.clientWidth, h = img.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  cv.width = Math.round(w * dpr);
  cv.height = Math.round(h * dpr);
  cv.style.width = w + "px";
  cv.style.height = h + "px";
  const ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  if (!img.naturalWidth || !lastFaces.length) return;
  const s = (w / img.naturalWidth) * dpr;
  ctx.lineWidth = Math.max(2, 3 * dpr);
  ctx.font = "600 " + Math.round(13 * dpr) + "px system-ui, sans-serif";
  lastFaces.forEach((f, i) => {
    const v = f.boundingPoly.vertices;
    const x = v[0].x * s, y = v[0].y * s, bw = (v[2].x - v[0].x) * s, bh = (v[2].y - v[0].y) * s;
    const color = FACE_COLORS[i % FACE_COLORS.length];
    ctx.strokeStyle = color;
    ctx.strokeRect(x, y, bw, bh);
    const tag = String(i + 1) + (f.joyLikelihood !== "UNKNOWN" ? " " + f.joyLikelihood.toLowerCase().replace(/_/g, " ") : "");
    const tw = ctx.measureText(tag).width + 8 * dpr;
    ctx.fillStyle = color;
    ctx.fillRect(x, Math.max(0, y - 18 * dpr), tw, 18 * dpr);
    ctx.fillStyle = "#fff";
    ctx.fillText(tag, x + 4 * dpr, Math.max(0, y - 18 * dpr) + 13 * dpr);
  });
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
  for (const t of ["labels", "properties", "faces"]) $("tab-" + t).addEventListener("click", () => selectTab(t));
  window.addEventListener("resize", drawFaces);
  features();
});
