// GovTrust e-license wallet, browser side of the holder binding (持有者绑定).
//
// Normative format: docs/licenses.md; Python reference: license_wallet/credential.py
// (present), license_wallet/qr.py (envelope), trust/cose.py (Sig_structure).
// An ES module with no dependencies, no eval and no inline script, so it runs under
// the site's CSP (script-src 'self').
//
// What it does
//   * The holder key is a WebCrypto ECDSA P-256 key generated with extractable=false
//     and kept in IndexedDB (database "govtrust-wallet", store "keys"); IndexedDB
//     stores the CryptoKey object itself (structured clone), never its bytes, so
//     page script cannot read the private key — only ask the browser to sign.
//   * buildPresentation() strips the issued disclosures (unprotected header → {}),
//     keeps the chosen ones, and signs a fresh key-binding token (COSE_Sign1, ES256)
//     over sd_hash; startRefreshing() re-signs every ≤ 30 s so a screenshot goes stale.
//   * presentationQrText() → "GT1:" + Base45(zlib(presentation)).
//
// Fallback for devices without WebCrypto (crypto.subtle: needs a secure context) or
// without IndexedDB — documented, NOT implemented here; holderSupport() reports which
// case applies and getOrCreateHolderKey() throws HolderUnsupportedError:
//   1. Default: refuse the QR presentation on that device and offer the alternatives
//      that do not need a holder key in the browser: show the license at the counter
//      through the national app / SSO login (the verifier looks the license up
//      online by identifier), or use another device.
//   2. Optional, if a deployment needs it: a server-held holder key (one per user and
//      credential, kept by the wallet service, signing only after a fresh SSO
//      login). Its assurance is lower (the service, not the device, holds the key),
//      so it MUST be visible to verifiers: the issuer records it in the credential
//      (e.g. a COSE_Key kid or a new signed claim "holder_assurance": "server")
//      and verifiers may refuse it for high-assurance uses. That needs a format
//      change in docs/licenses.md (§3.6 allows only kid/alg in cnf today), so it is
//      not done silently. docs/licenses.md §5 also mentions a software key in
//      wallet storage; that key is copyable by any script on the origin, so if used
//      it must likewise be marked in the credential, never presented as equivalent.
//   A key that merely fails to persist (private browsing) is treated as case 1.

const DB_NAME = "govtrust-wallet";
const STORE = "keys";
const HOLDER_ID = "holder";

const ALG_ES256 = -7;
const H_ALG = 1;
const H_TYP = 16;
const H_DISCLOSURES = -65537;
const CLAIM_AUD = 3;
const CLAIM_IAT = 6;
const CLAIM_CNF = 8;
const CLAIM_CNONCE = 39;
const CLAIM_SD_HASH = -65540;
const TAG_COSE_SIGN1 = 18;
const DIGEST_SIZE = 16;
const MAX_NONCE = 64;
const MAX_AUD = 256;
const MAX_CREDENTIAL = 8 * 1024;
const MAX_DISCLOSURES = 64;
const MAX_QR_TEXT = 4296;
export const REFRESH_MS = 25_000; // under the 30 s the format asks for

export class HolderUnsupportedError extends Error {}

// --------------------------------------------------------------------------- CBOR

/** A CBOR tag; the only one the format uses is 18 (COSE_Sign1). */
export class Tag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

// The shortest head for major type `major` and argument `n` (RFC 8949 §4.2.1).
function head(major, n) {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError("CBOR argument out of range");
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  const out = new Uint8Array(n < 0x100000000 ? 5 : 9);
  const view = new DataView(out.buffer);
  if (out.length === 5) {
    out[0] = m | 26;
    view.setUint32(1, n);
  } else {
    out[0] = m | 27;
    view.setBigUint64(1, BigInt(n));
  }
  return out;
}

/**
 * Core deterministic CBOR (RFC 8949 §4.2.1) of integers (safe range), Uint8Array
 * (bstr), string (tstr), booleans, Array, Map (keys sorted by their encoded bytes)
 * and Tag.
 */
export function cborEncode(value) {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("only safe integers are encoded");
    return value >= 0 ? head(0, value) : head(1, -1 - value);
  }
  if (typeof value === "boolean") return Uint8Array.of(value ? 0xf5 : 0xf4);
  if (value instanceof Uint8Array) return concat([head(2, value.length), value]);
  if (typeof value === "string") {
    const bytes = utf8.encode(value);
    return concat([head(3, bytes.length), bytes]);
  }
  if (Array.isArray(value)) return concat([head(4, value.length), ...value.map(cborEncode)]);
  if (value instanceof Map) {
    const items = [...value].map(([k, v]) => [cborEncode(k), cborEncode(v)]);
    items.sort((a, b) => compareBytes(a[0], b[0]));
    for (let i = 1; i < items.length; i++) {
      if (compareBytes(items[i - 1][0], items[i][0]) === 0) {
        throw new TypeError("duplicate map key");
      }
    }
    return concat([head(5, items.length), ...items.flat()]);
  }
  if (value instanceof Tag) return concat([head(6, value.tag), cborEncode(value.value)]);
  throw new TypeError(`cannot encode ${typeof value} in CBOR`);
}

/**
 * Decode one CBOR item, bounded: at most `maxSize` bytes, nesting `maxDepth`, no
 * indefinite lengths, no floats or other simple values than false/true, only the
 * tags in `tags`, no duplicate map keys, no trailing bytes. Byte strings come back
 * as Uint8Array views of the input (the exact bytes received, which is what gets
 * hashed and re-sent). Throws SyntaxError on anything else.
 */
export function cborDecode(bytes, { maxSize = MAX_CREDENTIAL, maxDepth = 8, tags = [18] } = {}) {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("CBOR input must be a Uint8Array");
  if (bytes.length > maxSize) throw new SyntaxError("CBOR input too large");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;

  function need(n) {
    if (n > bytes.length - pos) throw new SyntaxError("CBOR truncated");
  }
  function argument(info) {
    if (info < 24) return info;
    const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (size === undefined) throw new SyntaxError("CBOR indefinite length or reserved value");
    need(size);
    let n;
    if (size === 1) n = bytes[pos];
    else if (size === 2) n = view.getUint16(pos);
    else if (size === 4) n = view.getUint32(pos);
    else {
      const big = view.getBigUint64(pos);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new SyntaxError("CBOR integer too large");
      n = Number(big);
    }
    pos += size;
    return n;
  }
  function item(depth) {
    if (depth > maxDepth) throw new SyntaxError("CBOR nested too deeply");
    need(1);
    const initial = bytes[pos++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      throw new SyntaxError("CBOR simple value or float not allowed");
    }
    const n = argument(info);
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2:
      case 3: {
        need(n);
        const s = bytes.subarray(pos, pos + n);
        pos += n;
        return major === 2 ? s : utf8Strict.decode(s);
      }
      case 4: {
        need(n); // every element takes at least a byte: no huge allocations
        const out = [];
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      case 5: {
        need(2 * n);
        const out = new Map();
        for (let i = 0; i < n; i++) {
          const k = item(depth + 1);
          if (typeof k !== "number" && typeof k !== "string") {
            throw new SyntaxError("CBOR map key type");
          }
          if (out.has(k)) throw new SyntaxError("CBOR duplicate map key");
          out.set(k, item(depth + 1));
        }
        return out;
      }
      default: // 6: tag
        if (!tags.includes(n)) throw new SyntaxError(`CBOR tag ${n} not allowed`);
        return new Tag(n, item(depth + 1));
    }
  }
  const value = item(0);
  if (pos !== bytes.length) throw new SyntaxError("CBOR trailing bytes");
  return value;
}

// --------------------------------------------------------------------------- Base45, zlib

const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/** RFC 9285 §4: two bytes → three characters, a final odd byte → two. */
export function base45Encode(bytes) {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    let n = bytes[i] * 256 + bytes[i + 1];
    const c = n % 45;
    n = (n - c) / 45;
    out += B45[c] + B45[n % 45] + B45[(n - (n % 45)) / 45];
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1];
    out += B45[n % 45] + B45[(n - (n % 45)) / 45];
  }
  return out;
}

/** zlib (RFC 1950) stream: CompressionStream("deflate") emits the zlib format. */
export async function zlibCompress(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// --------------------------------------------------------------------------- holder key

/** Which of the platform features the holder key needs are present. */
export function holderSupport() {
  return {
    webCrypto: Boolean(globalThis.isSecureContext && globalThis.crypto?.subtle),
    indexedDB: typeof globalThis.indexedDB !== "undefined",
  };
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  const req = indexedDB.open(DB_NAME, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE);
  return request(req);
}

/**
 * The wallet's holder key: {privateKey, publicJwk}. Created once per browser profile
 * (ECDSA P-256, extractable=false, usage "sign") and kept in IndexedDB. Two tabs
 * racing both generate a key, but only the first one stored wins (get-or-add in one
 * readwrite transaction), so every tab ends up with the same key.
 */
export async function getOrCreateHolderKey() {
  const support = holderSupport();
  if (!support.webCrypto || !support.indexedDB) {
    throw new HolderUnsupportedError("this device has no WebCrypto or IndexedDB (see fallback)");
  }
  const db = await openDb();
  try {
    const stored = await request(db.transaction(STORE).objectStore(STORE).get(HOLDER_ID));
    if (stored) return stored;
    const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
    ]);
    const { kty, crv, x, y } = await crypto.subtle.exportKey("jwk", pair.publicKey);
    const fresh = { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } };
    const store = db.transaction(STORE, "readwrite").objectStore(STORE);
    const winner = await request(store.get(HOLDER_ID));
    if (winner) return winner;
    await request(store.add(fresh, HOLDER_ID));
    return fresh;
  } finally {
    db.close();
  }
}

function b64urlDecode(text) {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(b64 + "===".slice((b64.length + 3) % 4)), (c) => c.charCodeAt(0));
}

// --------------------------------------------------------------------------- presentation

async function sha256_16(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)).slice(0, DIGEST_SIZE);
}

// The credential's parts, or a thrown SyntaxError/TypeError when it is not an
// issued license credential of the shape docs/licenses.md §3 gives.
function parseCredential(credentialBytes) {
  const top = cborDecode(credentialBytes, { maxSize: MAX_CREDENTIAL, maxDepth: 8 });
  if (!(top instanceof Tag) || top.tag !== TAG_COSE_SIGN1 || !Array.isArray(top.value)) {
    throw new SyntaxError("the credential is not a tagged COSE_Sign1");
  }
  const [protectedBytes, unprotected, payload, signature] = top.value;
  if (
    top.value.length !== 4 ||
    !(protectedBytes instanceof Uint8Array) ||
    !(unprotected instanceof Map) ||
    !(payload instanceof Uint8Array) ||
    !(signature instanceof Uint8Array)
  ) {
    throw new SyntaxError("the credential is not a COSE_Sign1");
  }
  const issued = unprotected.get(H_DISCLOSURES) ?? [];
  if (!Array.isArray(issued) || !issued.every((d) => d instanceof Uint8Array)) {
    throw new SyntaxError("the issued disclosures are not byte strings");
  }
  const claims = cborDecode(payload, { maxDepth: 4, tags: [] });
  const coseKey = claims instanceof Map ? claims.get(CLAIM_CNF)?.get?.(1) : undefined;
  if (!(coseKey instanceof Map)) throw new SyntaxError("the credential has no cnf key");
  // Each issued disclosure is [salt, label, value]; the label says which field it is.
  const disclosures = issued.map((raw) => {
    const d = cborDecode(raw, { maxSize: 1024, maxDepth: 1, tags: [] });
    if (!Array.isArray(d) || d.length !== 3 || typeof d[1] !== "number") {
      throw new SyntaxError("a disclosure is not [salt, label, value]");
    }
    return { raw, label: d[1] };
  });
  return { protectedBytes, payload, signature, coseKey, disclosures };
}

// The credential's cnf must be this browser's key, else the verifier would say kb_invalid.
function checkHolder(coseKey, publicJwk) {
  const x = coseKey.get(-2);
  const y = coseKey.get(-3);
  const jwkX = b64urlDecode(publicJwk.x);
  const jwkY = b64urlDecode(publicJwk.y);
  const sameX = x instanceof Uint8Array && compareBytes(x, jwkX) === 0;
  const sameY =
    typeof y === "boolean"
      ? y === Boolean(jwkY[jwkY.length - 1] & 1)
      : y instanceof Uint8Array && compareBytes(y, jwkY) === 0;
  if (!sameX || !sameY) {
    throw new Error("holder_key_mismatch: the credential is bound to another key");
  }
}

/**
 * A presentation (CBOR bytes, docs/licenses.md §5) of an issued credential.
 *
 * `show`: "full" (every issued disclosure) or an array of field labels (the CBOR
 * labels of the type's schema, §6, e.g. [1, 2] for holder_name and holder_code).
 * Disclosures go in ascending label order, which is the schema order present() uses.
 * Options: `nonce` (Uint8Array, 1–64 bytes), `aud` (text, 1–256), `now` (epoch
 * seconds, default the clock), `holder` (default getOrCreateHolderKey()).
 */
export async function buildPresentation(credentialBytes, show, { nonce, aud, now, holder } = {}) {
  const cred = parseCredential(credentialBytes);
  const key = holder ?? (await getOrCreateHolderKey());
  checkHolder(cred.coseKey, key.publicJwk);

  let chosen;
  if (show === "full") {
    chosen = cred.disclosures;
  } else if (Array.isArray(show)) {
    chosen = [...new Set(show)].map((label) => {
      const found = cred.disclosures.find((d) => d.label === label);
      if (!found) throw new Error(`field_missing: the credential has no field with label ${label}`);
      return found;
    });
  } else {
    throw new TypeError('show is "full" or an array of field labels');
  }
  if (chosen.length > MAX_DISCLOSURES) throw new RangeError("too many disclosures");
  const shown = [...chosen].sort((a, b) => a.label - b.label).map((d) => d.raw);

  // The issuer's COSE_Sign1 with the issued disclosures removed (§3.2): the same
  // protected header, payload and signature bytes, an empty unprotected map.
  const credential = cborEncode(
    new Tag(TAG_COSE_SIGN1, [cred.protectedBytes, new Map(), cred.payload, cred.signature]),
  );

  const iat = now ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(iat) || iat < 0) throw new RangeError("now must be epoch seconds");
  const claims = new Map([
    [CLAIM_IAT, iat],
    [CLAIM_SD_HASH, await sha256_16(cborEncode([credential, shown]))],
  ]);
  if (nonce !== undefined && nonce !== null) {
    if (!(nonce instanceof Uint8Array) || nonce.length < 1 || nonce.length > MAX_NONCE) {
      throw new RangeError(`nonce must be 1..${MAX_NONCE} bytes`);
    }
    claims.set(CLAIM_CNONCE, nonce);
  }
  if (aud !== undefined && aud !== null) {
    if (typeof aud !== "string" || aud.length < 1 || aud.length > MAX_AUD) {
      throw new RangeError(`aud must be 1..${MAX_AUD} characters`);
    }
    claims.set(CLAIM_AUD, aud);
  }

  // Key-binding token: COSE_Sign1 over Sig_structure ["Signature1", protected, h'', payload]
  // (RFC 9052 §4.4). WebCrypto ECDSA returns the raw 64-byte r‖s, COSE's form (RFC 9053 §2.1).
  const kbProtected = cborEncode(new Map([[H_ALG, ALG_ES256], [H_TYP, "gt-kb"]]));
  const kbPayload = cborEncode(claims);
  const toBeSigned = cborEncode(["Signature1", kbProtected, new Uint8Array(0), kbPayload]);
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, toBeSigned),
  );
  const kb = cborEncode(new Tag(TAG_COSE_SIGN1, [kbProtected, new Map(), kbPayload, signature]));
  return cborEncode([credential, shown, kb]);
}

/** "GT1:" + Base45(zlib(buildPresentation(...))), the text of the QR symbol. */
export async function presentationQrText(credentialBytes, show, options = {}) {
  const presentation = await buildPresentation(credentialBytes, show, options);
  const text = "GT1:" + base45Encode(await zlibCompress(presentation));
  if (text.length > MAX_QR_TEXT) throw new RangeError("the presentation does not fit a QR code");
  return text;
}

/**
 * Call `onText(qrText)` now and then every `periodMs` (≤ 30 s) with a freshly signed
 * presentation; `onError(error)` on failure. Returns a function that stops it.
 * A verifier's nonce changes the options: stop and start again with it.
 */
export function startRefreshing(
  credentialBytes,
  show,
  options,
  onText,
  onError,
  periodMs = REFRESH_MS,
) {
  if (!(periodMs > 0 && periodMs <= 30_000)) throw new RangeError("refresh period must be ≤ 30 s");
  let stopped = false;
  const tick = () =>
    presentationQrText(credentialBytes, show, { ...options, now: undefined }).then(
      (text) => stopped || onText(text),
      (error) => stopped || onError?.(error),
    );
  tick();
  const timer = setInterval(tick, periodMs);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
