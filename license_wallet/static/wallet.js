// The e-license wallet's page script (/wallet/): an ES module served from our origin
// (CSP script-src 'self', no inline script, no eval). It builds the DOM with
// textContent only. The holder key and presentations come from holder.js.
//
// List page: compares this browser's holder key (non-extractable WebCrypto P-256,
// IndexedDB) with the keys the licenses are bound to, and offers "bind this device"
// (POST /wallet/holder-key with the public JWK and the CSRF token).
// Detail page: "show QR" fetches the issued credential, re-signs a presentation every
// `data-period` seconds (≤ 25) with holder.js startRefreshing, posts the QR text to
// /wallet/qr.svg and shows the returned SVG with a countdown; PNG/SVG download, print.

import { HolderUnsupportedError, getOrCreateHolderKey, startRefreshing } from "./holder.js";

function b64urlDecode(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "===".slice((b64.length + 3) % 4)), (c) => c.charCodeAt(0));
}

function b64urlEncode(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** RFC 7638 thumbprint of an EC public JWK (SHA-256, base64url), as the server computes it. */
async function thumbprint(jwk) {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return b64urlEncode(new Uint8Array(digest));
}

async function postForm(url, csrf, fields) {
  const body = new URLSearchParams({ csrf_token: csrf, ...fields });
  return fetch(url, {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
}

async function errorMessage(response) {
  try {
    const data = await response.json();
    return data.message || data.error || String(response.status);
  } catch {
    return String(response.status);
  }
}

// --------------------------------------------------------------------------- list page

async function listPage(root) {
  const text = document.getElementById("wallet-key-text");
  const bind = document.getElementById("wallet-bind");
  const errorBox = document.getElementById("wallet-error");
  const valid = root.dataset.validKeys.split(" ").filter(Boolean);
  let holder;
  try {
    holder = await getOrCreateHolderKey();
  } catch (error) {
    root.dataset.state = "unsupported";
    text.textContent = root.dataset.msgUnsupported;
    if (!(error instanceof HolderUnsupportedError)) console.warn(error);
    return;
  }
  const mine = await thumbprint(holder.publicJwk);
  root.dataset.thumbprint = mine;
  for (const row of document.querySelectorAll("tr[data-license-id]")) {
    const cell = row.querySelector(".wallet-device");
    const here = row.dataset.holderThumbprint === mine;
    cell.textContent = here ? root.dataset.msgThis : root.dataset.msgOther;
    row.dataset.device = here ? "this" : "other";
  }
  if (valid.length === 0) {
    root.dataset.state = "none";
    text.textContent = "";
  } else if (valid.length === 1 && valid[0] === mine) {
    root.dataset.state = "bound";
    text.textContent = root.dataset.msgBound;
  } else if (root.dataset.rebindable === "yes") {
    root.dataset.state = "unbound";
    text.textContent = root.dataset.msgUnbound;
    bind.hidden = false;
  } else {
    root.dataset.state = valid.includes(mine) ? "bound" : "other";
    text.textContent = valid.includes(mine) ? root.dataset.msgBound : root.dataset.msgNotRebindable;
  }
  bind.addEventListener("click", async () => {
    bind.disabled = true;
    errorBox.hidden = true;
    const response = await postForm(root.dataset.bindUrl, root.dataset.csrf, {
      jwk: JSON.stringify(holder.publicJwk),
    });
    if (!response.ok) {
      errorBox.textContent = await errorMessage(response);
      errorBox.hidden = false;
      bind.disabled = false;
      return;
    }
    window.location.reload();
  });
}

// --------------------------------------------------------------------------- detail page

function detailPage(root) {
  const form = document.getElementById("wallet-show-form");
  const custom = document.getElementById("wallet-custom");
  const startButton = document.getElementById("wallet-qr-start");
  const stopButton = document.getElementById("wallet-qr-stop");
  const errorBox = document.getElementById("wallet-error");
  const figure = document.getElementById("wallet-qr-figure");
  const image = document.getElementById("wallet-qr");
  const countdown = document.getElementById("wallet-countdown");
  const actions = document.getElementById("wallet-actions");
  const period = Math.min(Math.max(Number(root.dataset.period) || 25, 2), 25);
  const csrf = root.dataset.csrf;
  let stop = null;
  let ticker = null;
  let current = null; // {text, svg: Blob, url}
  let generation = 0;
  let refreshedAt = 0;

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function chosen() {
    const mode = form.querySelector("input[name=disclose]:checked").value;
    if (mode === "full") return "full";
    if (mode === "minimal") return root.dataset.minimal.split(" ").filter(Boolean).map(Number);
    return [...custom.querySelectorAll("input[name=field]:checked")].map((i) => Number(i.value));
  }

  function tick() {
    const left = Math.max(0, Math.ceil(period - (Date.now() - refreshedAt) / 1000));
    countdown.textContent = root.dataset.msgCountdown.replace("{seconds}", String(left));
    countdown.dataset.seconds = String(left);
  }

  function halt() {
    generation += 1;
    if (stop) stop();
    stop = null;
    clearInterval(ticker);
    ticker = null;
    stopButton.hidden = true;
    startButton.disabled = false;
  }

  async function show(text, mine) {
    const response = await postForm(root.dataset.qrUrl, csrf, { text });
    if (mine !== generation) return;
    if (!response.ok) {
      showError(await errorMessage(response));
      return;
    }
    const svg = await response.blob();
    if (mine !== generation) return;
    const previous = current;
    current = { text, svg, url: URL.createObjectURL(svg) };
    image.src = current.url;
    figure.dataset.qrText = text;
    figure.dataset.qrVersion = response.headers.get("X-QR-Version") || "";
    figure.dataset.refreshes = String(Number(figure.dataset.refreshes || "0") + 1);
    figure.hidden = false;
    actions.hidden = false;
    refreshedAt = Date.now();
    tick();
    if (previous) URL.revokeObjectURL(previous.url);
  }

  function download(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  for (const radio of form.querySelectorAll("input[name=disclose]")) {
    radio.addEventListener("change", () => {
      custom.hidden = form.querySelector("input[name=disclose]:checked").value !== "custom";
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    halt();
    errorBox.hidden = true;
    if (root.dataset.presentable !== "yes") {
      showError(root.dataset.msgNotValid);
      return;
    }
    const showWhat = chosen();
    if (Array.isArray(showWhat) && showWhat.length === 0) {
      showError(root.dataset.msgNoneChosen);
      return;
    }
    const mine = generation;
    startButton.disabled = true;
    let holder;
    try {
      holder = await getOrCreateHolderKey();
    } catch (error) {
      startButton.disabled = false;
      showError(error instanceof HolderUnsupportedError ? root.dataset.msgUnsupported : String(error));
      return;
    }
    if ((await thumbprint(holder.publicJwk)) !== root.dataset.holderThumbprint) {
      startButton.disabled = false;
      showError(root.dataset.msgOtherDevice);
      return;
    }
    const response = await fetch(root.dataset.credentialUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf },
    });
    if (!response.ok) {
      startButton.disabled = false;
      showError(await errorMessage(response));
      return;
    }
    const credential = b64urlDecode((await response.json()).credential);
    if (mine !== generation) return;
    figure.dataset.refreshes = "0";
    figure.dataset.disclose = Array.isArray(showWhat) ? showWhat.join(" ") : "full";
    stopButton.hidden = false;
    startButton.disabled = false; // pressing it again restarts with the current choice
    stop = startRefreshing(
      credential,
      showWhat,
      { holder },
      (text) => show(text, mine),
      (error) => showError(String(error.message || error)),
      period * 1000,
    );
    ticker = setInterval(tick, 250);
  });

  stopButton.addEventListener("click", () => {
    halt();
    figure.hidden = true;
    actions.hidden = true;
  });

  document.getElementById("wallet-download-svg").addEventListener("click", () => {
    if (current) download(current.svg, "license-qr.svg");
  });
  document.getElementById("wallet-download-png").addEventListener("click", async () => {
    if (!current) return;
    const response = await postForm(root.dataset.qrUrl, csrf, { text: current.text, format: "png" });
    if (!response.ok) {
      showError(await errorMessage(response));
      return;
    }
    download(await response.blob(), "license-qr.png");
  });
  document.getElementById("wallet-print").addEventListener("click", () => window.print());
}

const listRoot = document.getElementById("wallet-key");
if (listRoot) listPage(listRoot);
const detailRoot = document.getElementById("wallet-show");
if (detailRoot) detailPage(detailRoot);
