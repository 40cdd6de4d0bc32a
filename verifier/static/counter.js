// The counter page (verifier/counter.py): scanner text, camera, photo or document
// upload → the hub's verdict, shown large; cleared on demand and after a delay.
// Everything is written with textContent: nothing from a QR becomes markup.
(function () {
  "use strict";

  const root = document.getElementById("counter");
  if (!root) return;
  const d = root.dataset;
  const $ = (id) => document.getElementById(id);
  const result = $("counter-result");
  const textInput = $("counter-text");
  const cameraButton = $("counter-camera");
  const cameraStatus = $("counter-camera-status");
  const video = $("counter-video");
  const canvas = $("counter-canvas");
  let clearTimer = null;
  let stream = null;
  let scanning = false;
  let detector = null;
  let frameNo = 0;
  // ?decoder=server: only the server reads frames (tests, or a browser whose own
  // decoding is too slow).
  const browserDecoding = new URLSearchParams(location.search).get("decoder") !== "server";
  const SCALES = [1, 0.6, 0.8];

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function clear() {
    if (clearTimer) clearTimeout(clearTimer);
    clearTimer = null;
    result.hidden = true;
    result.dataset.verdict = "";
    $("counter-mode").textContent = "";
    for (const id of ["counter-verdict", "counter-reasons", "counter-license", "counter-signatures"]) {
      $(id).replaceChildren();
    }
    textInput.value = "";
    $("counter-file").value = "";
    textInput.focus();
  }

  function row(dl, label, value) {
    dl.append(el("dt", label), el("dd", value));
  }

  function render(body) {
    if (clearTimer) clearTimeout(clearTimer);
    const verdict = body.verdict || "INDETERMINATE";
    result.dataset.verdict = verdict;
    result.dataset.kind = body.kind || "";
    result.hidden = false;
    const headline = { VALID: d.msgValid, INVALID: d.msgInvalid }[verdict] || d.msgIndeterminate;
    $("counter-verdict").textContent = headline;
    const reasons = $("counter-reasons");
    reasons.replaceChildren();
    for (const r of body.reason_texts || []) {
      const li = el("li", r.text);
      li.dataset.code = r.code;
      reasons.append(li);
    }
    if (body.message) reasons.append(el("li", body.message));
    const mode = $("counter-mode");
    mode.textContent = body.offline ? d.msgOfflineVerdict : "";
    mode.hidden = !body.offline;
    result.dataset.offline = body.offline ? "yes" : "no";
    const dl = $("counter-license");
    dl.replaceChildren();
    const en = d.lang === "en";
    if (body.issuer) row(dl, d.msgIssuer, en ? body.issuer.name_en : body.issuer.name_zh);
    const lic = body.license;
    if (lic) {
      row(dl, d.msgType, en ? lic.type_name_en : lic.type_name_zh);
      row(dl, d.msgIdentifier, lic.identifier);
      const until = lic.valid_until ? lic.valid_until.slice(0, 10) : d.msgLongTerm;
      row(dl, d.msgValidity, lic.valid_from.slice(0, 10) + " – " + until);
      const labels = lic.field_labels || {};
      for (const [key, value] of Object.entries(lic.fields || {})) {
        const dt = el("dt", labels[key] || key);
        const dd = el("dd", value);
        dd.dataset.field = key;
        dl.append(dt, dd);
      }
    }
    if (body.kind === "id_token") {
      const labels = body.claim_labels || {};
      for (const [key, value] of Object.entries(body.claims || {})) {
        let shown = value;
        if (["iat", "exp", "auth_time"].includes(key) && typeof value === "number") {
          shown = new Date(value * 1000).toISOString().replace(".000Z", "Z");
        } else if (Array.isArray(value)) {
          shown = value.join(", ");
        }
        const dt = el("dt", labels[key] || key);
        const dd = el("dd", shown);
        dd.dataset.claim = key;
        dl.append(dt, dd);
      }
    }
    const sigs = $("counter-signatures");
    sigs.replaceChildren();
    if (body.kind === "document" && (body.signatures || []).length) {
      sigs.append(el("h3", d.msgSignatures));
      const ol = el("ol");
      for (const s of body.signatures) {
        const parts = [s.type, s.seal_name, s.signer_subject, s.signing_time]
          .filter((x) => x)
          .join(" · ");
        const status = s.sub_indication ? s.indication + " / " + s.sub_indication : s.indication;
        const li = el("li", parts + ": " + status);
        li.dataset.indication = s.indication || "";
        ol.append(li);
      }
      sigs.append(ol);
    }
    clearTimer = setTimeout(clear, Number(d.clearAfter || 60) * 1000);
  }

  function working() {
    result.hidden = false;
    result.dataset.verdict = "working";
    $("counter-verdict").textContent = d.msgWorking;
  }

  // ``offline()``: what to do when the hub cannot be reached (a network error,
  // not an answer): verify in this browser where that is possible.
  async function post(url, init, offline) {
    working();
    let body;
    try {
      const response = await fetch(url, { method: "POST", credentials: "same-origin", ...init });
      body = await response.json();
    } catch (e) {
      if (offline) return offline();
      body = { verdict: "INDETERMINATE", reason_texts: [], message: d.msgNetwork };
    }
    render(body);
  }

  function verifyText(text) {
    if (forceLocal) {
      working();
      return verifyLocally(text);
    }
    return post(
      d.verifyUrl,
      {
        headers: { "Content-Type": "application/json", "X-CSRF-Token": d.csrf },
        body: JSON.stringify({ text: text.trim() }),
      },
      () => verifyLocally(text),
    );
  }

  // ------------------------------------------------------------------ offline

  // The trust snapshot (verifier/browser.py) is fetched whenever the hub answers
  // and kept in IndexedDB; when the hub cannot be reached (or with ?verify=local)
  // QR texts are verified here by offline.js. Replays are then caught on this
  // device only, and sealed documents and ID tokens need the hub.
  const Offline = window.GovTrustOffline;
  const forceLocal = new URLSearchParams(location.search).get("verify") === "local";
  const reasonTexts = JSON.parse(($("counter-reason-data") || {}).textContent || "{}");
  const localTrustText = $("counter-local-trust");
  let localTrust = null;
  let localReplay = null;

  function showLocalTrust(snapshot, why) {
    const aside = $("counter-trust");
    if (!snapshot) {
      aside.dataset.local = "none";
      localTrustText.textContent = d.msgLocalNone;
      return;
    }
    const when = (iso) => (iso ? new Date(iso).toLocaleString(d.lang === "en" ? "en-GB" : "zh-CN") : "—");
    aside.dataset.local = why ? "stale" : "ready";
    aside.dataset.localGenerated = snapshot.generated_at;
    localTrustText.textContent = d.msgLocalReady
      .replace("{generated}", when(snapshot.generated_at))
      .replace("{until}", when(snapshot.usable_until));
    if (why) localTrustText.textContent += " " + d.msgLocalStale;
  }

  async function loadLocalTrust() {
    if (!Offline) return;
    let db = null;
    try {
      db = await Offline.openStore();
    } catch (e) {
      db = null; // private mode or storage refused: memory only
    }
    let snapshot = null;
    try {
      const response = await fetch(d.snapshotUrl, { credentials: "same-origin", cache: "no-cache" });
      if (response.ok) snapshot = await response.json();
      if (snapshot && db) await Offline.saveSnapshot(db, snapshot);
    } catch (e) {
      snapshot = null;
    }
    if (!snapshot && db) {
      try {
        snapshot = (await Offline.loadSnapshot(db)) || null;
      } catch (e) {
        snapshot = null;
      }
    }
    try {
      localTrust = snapshot ? await Offline.prepare(snapshot) : null;
    } catch (e) {
      localTrust = null;
      snapshot = null;
    }
    localReplay = db ? new Offline.ReplayStore(db) : new Offline.ReplayMemory();
    const now = Date.now() / 1000;
    const why = localTrust && (snapshot.stale || !localTrust.usableUntil || now > localTrust.usableUntil);
    showLocalTrust(snapshot, why);
  }
  const localReady = loadLocalTrust();

  function offlineOnly(message) {
    render({ verdict: "INDETERMINATE", reason_texts: [], message, offline: true });
  }

  async function verifyLocally(text) {
    await localReady;
    if (!localTrust) return offlineOnly(d.msgLocalNone);
    if (/^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(text.trim())) {
      return offlineOnly(d.msgOfflineUnsupported);
    }
    let body;
    try {
      body = await Offline.verifyQrText(text, localTrust, { replay: localReplay, lang: d.lang });
    } catch (e) {
      body = { verdict: "INDETERMINATE", reasons: ["malformed"], offline: true };
    }
    body.reason_texts = (body.reasons || []).map((code) => ({ code, text: reasonTexts[code] || code }));
    render(body);
  }

  // An image read here (jsQR) when the hub cannot decode it; documents need the hub.
  async function verifyFileLocally(file) {
    if (!/^image\//.test(file.type)) return offlineOnly(d.msgOfflineUnsupported);
    try {
      const bitmap = await createImageBitmap(file);
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const ctx = canvas.getContext("2d", { willReadFrequently: true });
      ctx.drawImage(bitmap, 0, 0);
      const code = window.jsQR(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data, bitmap.width, bitmap.height, {
        inversionAttempts: "attemptBoth",
      });
      if (code && code.data) return verifyLocally(code.data);
    } catch (e) {
      // not an image this browser can read
    }
    render({
      verdict: "INDETERMINATE",
      reasons: ["unreadable_image"],
      reason_texts: [{ code: "unreadable_image", text: reasonTexts.unreadable_image || "unreadable_image" }],
      offline: true,
    });
  }

  if ("serviceWorker" in navigator && d.swUrl) {
    navigator.serviceWorker.register(d.swUrl).catch(() => {});
  }

  $("counter-text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = textInput.value;
    textInput.value = "";
    if (text.trim()) verifyText(text);
  });

  $("counter-file-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("counter-file");
    if (!input.files || !input.files.length) return;
    const form = new FormData();
    form.append("file", input.files[0]);
    form.append("csrf_token", d.csrf);
    const file = input.files[0];
    post(d.fileUrl, { headers: { "X-CSRF-Token": d.csrf }, body: form }, () => verifyFileLocally(file));
  });

  $("counter-clear").addEventListener("click", clear);

  // ------------------------------------------------------------------ camera

  async function makeDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch (e) {
      return null;
    }
  }

  function stopCamera() {
    scanning = false;
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    video.hidden = true;
    cameraButton.textContent = d.msgCameraStart;
    cameraStatus.textContent = "";
  }

  async function readFrame() {
    if (!video.videoWidth) return null;
    if (detector) {
      const codes = await detector.detect(video);
      return codes.length ? codes[0].rawValue : null;
    }
    // jsQR misses some dense symbols at one scale and finds them at another (module
    // edges fall differently): alternate full and reduced frames.
    frameNo += 1;
    const scale = SCALES[frameNo % SCALES.length];
    const w = Math.round(video.videoWidth * scale);
    const h = Math.round(video.videoHeight * scale);
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(video, 0, 0, w, h);
    const code = window.jsQR(ctx.getImageData(0, 0, w, h).data, w, h, {
      inversionAttempts: "attemptBoth",
    });
    return code ? code.data : null;
  }

  // Every SERVER_EVERY frames the browser could not read, one frame goes to the
  // counter's own server (zxing-cpp reads dense symbols that jsQR misses); never
  // more than one at a time. The server keeps nothing.
  const SERVER_EVERY = 6;
  let serverBusy = false;
  let loops = 0;

  function frameBlob() {
    const w = video.videoWidth;
    const h = video.videoHeight;
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d").drawImage(video, 0, 0, w, h);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.9));
  }

  async function serverFrame() {
    serverBusy = true;
    try {
      const blob = await frameBlob();
      if (!blob || !scanning) return;
      const form = new FormData();
      form.append("frame", blob, "frame.jpg");
      const response = await fetch(d.frameUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": d.csrf },
        body: form,
      });
      if (response.status === 200) {
        const body = await response.json();
        if (scanning && typeof body.text === "string") {
          cameraStatus.dataset.decoder = "server";
          stopCamera();
          verifyText(body.text);
        }
      }
    } catch (e) {
      // the next frame tries again
    } finally {
      serverBusy = false;
    }
  }

  async function scanLoop() {
    if (!scanning) return;
    let text = null;
    try {
      text = browserDecoding ? await readFrame() : null;
    } catch (e) {
      text = null;
    }
    if (!scanning) return; // the server read a frame while this one was decoded
    if (text) {
      stopCamera();
      verifyText(text);
      return;
    }
    loops += 1;
    const every = browserDecoding ? SERVER_EVERY : 1;
    if (video.videoWidth && !serverBusy && loops % every === 0) serverFrame();
    setTimeout(scanLoop, browserDecoding ? 120 : 250);
  }

  cameraButton.addEventListener("click", async () => {
    if (scanning) {
      stopCamera();
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraStatus.textContent = d.msgCameraUnavailable;
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment", width: { ideal: 1280 } },
        audio: false,
      });
    } catch (e) {
      cameraStatus.textContent = d.msgCameraUnavailable;
      return;
    }
    detector = await makeDetector();
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    scanning = true;
    loops = 0;
    cameraButton.textContent = d.msgCameraStop;
    cameraStatus.textContent = d.msgCameraLooking;
    cameraStatus.dataset.decoder = !browserDecoding ? "server-only" : detector ? "BarcodeDetector" : "jsQR";
    scanLoop();
  });
})();
