// GovTrust offline e-license verifier for the counter page (docs/verifier.md,
// "Verifying in the browser"). A port of verifier/licenses.py +
// license_wallet/credential.py verify_presentation: the same checks in the same
// order, the same reason codes, against the snapshot the hub serves at
// /verifier/api/snapshot (verifier/browser.py) and the page keeps in IndexedDB.
//
// Crypto: ES256 through WebCrypto; SM2 with SM3 (signer ID 1234567812345678,
// r‖s) through the vendored sm-crypto 0.5.8 (vendor/sm2.js, MIT). Inflation
// through DecompressionStream with an output cap. Nothing here uses eval.
//
// window.GovTrustOffline = { verifyQrText(text, snapshot, options), prepare(snapshot),
//                            ReplayMemory, openStore() }
(function (global) {
  "use strict";

  const PREFIX = "GT1:";
  const MAX_QR_TEXT = 4296;
  const MAX_INFLATED = 64 * 1024;
  const MAX_PRESENTATION = 8 * 1024;
  const MAX_DISCLOSURES = 64;
  const MAX_DISCLOSURE_SIZE = 1024;
  const MAX_ISSUER_ID = 64;
  const MAX_URI = 256;
  const MAX_TIME = 253402300799;
  const DIGEST_SIZE = 16;
  const SALT_SIZE = 16;
  const ALG_ES256 = -7;
  const ALG_SM2 = -65601;
  const TAG_SIGN1 = 18;
  const H_ALG = 1, H_CRIT = 2, H_KID = 4, H_TYP = 16;
  const CLAIM_ISS = 1, CLAIM_AUD = 3, CLAIM_EXP = 4, CLAIM_NBF = 5, CLAIM_IAT = 6;
  const CLAIM_CNF = 8, CLAIM_CNONCE = 39, CLAIM_STATUS = 65535;
  const CLAIM_LICENSE_ID = -65538, CLAIM_DIGESTS = -65539, CLAIM_SD_HASH = -65540;
  const LICENSE_ID_PREFIX = "1.2.156.3005.2";
  const B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  const INDETERMINATE_REASONS = new Set(["malformed", "unsupported_version", "status_unknown", "stale_trust_data"]);
  const SNAPSHOT_FORMAT = "govtrust.counter-snapshot/1";

  // A refusal: ``reason`` is one of verifier/licenses.py's reason codes.
  class Refusal extends Error {
    constructor(reason, detail) {
      super(detail || reason);
      this.reason = reason;
      this.detail = detail || "";
    }
  }
  const malformed = (detail) => new Refusal("malformed", detail);

  // ------------------------------------------------------------------ bytes

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  function fromHex(text) {
    const out = new Uint8Array(text.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }
  function concat(parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }
  function fromBase64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  const b64urlToBytes = (t) => fromBase64(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4));

  // RFC 9285 §4.2.
  function base45Decode(text) {
    if (text.length % 3 === 1) throw malformed("Base45 length must not be 1 mod 3");
    const out = [];
    for (let i = 0; i < text.length; i += 3) {
      const v = [];
      for (let j = i; j < Math.min(i + 3, text.length); j++) {
        const k = B45.indexOf(text[j]);
        if (k < 0) throw malformed("invalid Base45 character");
        v.push(k);
      }
      if (v.length === 3) {
        const n = v[0] + v[1] * 45 + v[2] * 2025;
        if (n > 0xffff) throw malformed("Base45 group above 65535");
        out.push(n >> 8, n & 0xff);
      } else {
        const n = v[0] + v[1] * 45;
        if (n > 0xff) throw malformed("Base45 final pair above 255");
        out.push(n);
      }
    }
    return Uint8Array.from(out);
  }

  // One complete zlib stream, at most ``max`` bytes out (a bomb is refused
  // without inflating it all); trailing bytes or truncation are errors.
  async function inflate(data, max) {
    let ds;
    try {
      ds = new DecompressionStream("deflate");
    } catch (e) {
      throw new Refusal("malformed", "this browser cannot inflate zlib");
    }
    const writer = ds.writable.getWriter();
    const reader = ds.readable.getReader();
    writer.write(data).catch(() => {});
    writer.close().catch(() => {});
    const parts = [];
    let total = 0;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > max) {
          reader.cancel().catch(() => {});
          throw malformed("inflates beyond " + max + " bytes");
        }
        parts.push(value);
      }
    } catch (e) {
      if (e instanceof Refusal) throw e;
      throw malformed("not a valid zlib stream");
    }
    return concat(parts);
  }

  // ------------------------------------------------------------------ CBOR

  // Bounded decoding of exactly one item (RFC 8949): definite lengths only, no
  // tags but the allowed ones, no duplicate map keys, valid UTF-8, depth and
  // item limits. Maps become CborMap (entries by a typed key), floats CborFloat
  // (so that 1.0 is not taken for the integer 1), tags CborTag.
  class CborMap {
    constructor() {
      this.entries = new Map();
    }
    // Keys compare as Python compares them (trust/cose.py does the same when it
    // refuses duplicates): true is 1, false is 0, 2.0 is 2, NaN equals nothing.
    static key(k) {
      if (typeof k === "number" || typeof k === "bigint") return "i:" + String(k);
      if (typeof k === "boolean") return k ? "i:1" : "i:0";
      if (k instanceof CborFloat) {
        if (Number.isInteger(k.value)) return "i:" + BigInt(k.value).toString();
        return Number.isNaN(k.value) ? null : "f:" + String(k.value);
      }
      if (typeof k === "string") return "s:" + k;
      if (k instanceof Uint8Array) return "b:" + hex(k);
      if (k === null) return "z:null";
      if (k === undefined) return "z:undefined";
      if (k && typeof k.simple === "number") return "z:" + k.simple;
      return null;
    }
    get(k) {
      const e = this.entries.get(CborMap.key(k));
      return e === undefined ? undefined : e[1];
    }
    has(k) {
      return this.entries.has(CborMap.key(k));
    }
    get size() {
      return this.entries.size;
    }
    keys() {
      return Array.from(this.entries.values(), (e) => e[0]);
    }
  }
  class CborFloat {
    constructor(value) {
      this.value = value;
    }
  }
  class CborTag {
    constructor(tag, value) {
      this.tag = tag;
      this.value = value;
    }
  }
  const utf8 = new TextDecoder("utf-8", { fatal: true });

  function decodeCbor(data, { maxSize = 64 * 1024, maxDepth = 16, maxItems = 10000, tags = [] } = {}) {
    if (data.length > maxSize) throw malformed("CBOR input over " + maxSize + " bytes");
    let pos = 0;
    let items = 0;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const need = (n) => {
      if (pos + n > data.length) throw malformed("truncated CBOR");
    };
    function arg(info) {
      if (info < 24) return info;
      if (info === 24) {
        need(1);
        return data[pos++];
      }
      if (info === 25) {
        need(2);
        const v = view.getUint16(pos);
        pos += 2;
        return v;
      }
      if (info === 26) {
        need(4);
        const v = view.getUint32(pos);
        pos += 4;
        return v;
      }
      if (info === 27) {
        need(8);
        const v = view.getBigUint64(pos);
        pos += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      if (info === 31) throw malformed("indefinite-length CBOR");
      throw malformed("reserved CBOR additional information");
    }
    function half(bits) {
      const exp = (bits >> 10) & 0x1f, mant = bits & 0x3ff;
      const sign = bits & 0x8000 ? -1 : 1;
      if (exp === 0) return sign * mant * 2 ** -24;
      if (exp === 31) return mant ? NaN : sign * Infinity;
      return sign * (mant + 1024) * 2 ** (exp - 25);
    }
    function item(depth) {
      if (++items > maxItems) throw malformed("too many CBOR items");
      need(1);
      const first = data[pos++];
      const major = first >> 5, info = first & 0x1f;
      if (major === 7) {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22) return null;
        if (info === 23) return undefined;
        if (info === 25) {
          need(2);
          const v = half(view.getUint16(pos));
          pos += 2;
          return new CborFloat(v);
        }
        if (info === 26) {
          need(4);
          const v = view.getFloat32(pos);
          pos += 4;
          return new CborFloat(v);
        }
        if (info === 27) {
          need(8);
          const v = view.getFloat64(pos);
          pos += 8;
          return new CborFloat(v);
        }
        if (info === 31) throw malformed("indefinite-length CBOR");
        if (info === 24) {
          need(1);
          pos++;
        }
        return { simple: info };
      }
      const n = arg(info);
      if (major === 0) return n;
      if (major === 1) return typeof n === "bigint" ? -1n - n : -1 - n;
      if (major === 2 || major === 3) {
        if (typeof n === "bigint" || n > data.length - pos) throw malformed("truncated CBOR");
        const bytes = data.subarray(pos, pos + n);
        pos += n;
        if (major === 2) return bytes;
        try {
          return utf8.decode(bytes);
        } catch (e) {
          throw malformed("invalid UTF-8 in CBOR text");
        }
      }
      if (depth >= maxDepth) throw malformed("CBOR nested too deeply");
      if (typeof n === "bigint" || n > data.length - pos) throw malformed("truncated CBOR");
      if (major === 4) {
        const out = [];
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      if (major === 5) {
        const out = new CborMap();
        for (let i = 0; i < n; i++) {
          const k = item(depth + 1);
          const v = item(depth + 1);
          let norm = CborMap.key(k);
          if (norm === null) norm = "o:" + pos; // an unusual key: kept, never found by get()
          if (out.entries.has(norm)) throw malformed("duplicate CBOR map key");
          out.entries.set(norm, [k, v]);
        }
        return out;
      }
      // major 6: a tag
      if (!tags.includes(n)) throw malformed("CBOR tag " + n + " not allowed");
      return new CborTag(n, item(depth + 1));
    }
    const value = item(0);
    if (pos !== data.length) throw malformed("trailing bytes after the CBOR item");
    return value;
  }

  // Deterministic encoding of what we hash or sign: byte strings, text, arrays.
  function head(major, n) {
    if (n < 24) return Uint8Array.of((major << 5) | n);
    if (n < 0x100) return Uint8Array.of((major << 5) | 24, n);
    if (n < 0x10000) return Uint8Array.of((major << 5) | 25, n >> 8, n & 0xff);
    return Uint8Array.of((major << 5) | 26, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  function encode(value) {
    if (value instanceof Uint8Array) return concat([head(2, value.length), value]);
    if (typeof value === "string") {
      const b = new TextEncoder().encode(value);
      return concat([head(3, b.length), b]);
    }
    if (Array.isArray(value)) return concat([head(4, value.length), ...value.map(encode)]);
    throw new Error("cannot encode");
  }

  const isInt = (v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint";
  const isBytes = (v) => v instanceof Uint8Array;
  const isText = (v) => typeof v === "string";

  // ------------------------------------------------------------------ COSE

  function decodeSign1(data, typ) {
    let obj = decodeCbor(data, { maxSize: MAX_PRESENTATION, maxDepth: 6, tags: [TAG_SIGN1, 61] });
    if (!(obj instanceof CborTag) || obj.tag !== TAG_SIGN1) throw malformed("expected a tagged COSE_Sign1 with typ " + typ);
    obj = obj.value;
    if (!Array.isArray(obj) || obj.length !== 4) throw malformed("COSE_Sign1 must be an array of four items");
    const [protectedBytes, unprotected, payload, signature] = obj;
    if (!isBytes(protectedBytes)) throw malformed("protected header must be a byte string");
    if (!(unprotected instanceof CborMap)) throw malformed("unprotected header must be a map");
    if (!isBytes(payload) || !isBytes(signature)) throw malformed("payload and signature must be byte strings");
    let prot = new CborMap();
    if (protectedBytes.length) {
      prot = decodeCbor(protectedBytes, { maxSize: MAX_PRESENTATION, maxDepth: 6 });
      if (!(prot instanceof CborMap)) throw malformed("protected header must be a map");
    }
    for (const m of [prot, unprotected]) {
      for (const k of m.keys()) if (!isInt(k) && !isText(k)) throw malformed("header labels are integers or text");
    }
    if (unprotected.has(H_CRIT)) throw malformed("crit must be protected");
    const crit = prot.get(H_CRIT);
    if (crit !== undefined) {
      if (!Array.isArray(crit) || !crit.length) throw malformed("malformed crit");
      throw malformed("unsupported critical header");
    }
    if (!prot.has(H_ALG)) throw malformed("alg must be in the protected header");
    if (unprotected.has(H_ALG)) throw malformed("alg in both header buckets");
    const alg = prot.get(H_ALG);
    if (!isInt(alg)) throw malformed("alg is not a COSE algorithm id");
    const kid = prot.has(H_KID) ? prot.get(H_KID) : unprotected.get(H_KID);
    if (kid !== undefined && !isBytes(kid)) throw malformed("kid must be a byte string");
    if (prot.get(H_TYP) !== typ) throw malformed("expected a tagged COSE_Sign1 with typ " + typ);
    if (unprotected.size) throw malformed("a presented COSE_Sign1 has an empty unprotected header");
    return { protectedBytes, payload, signature, alg, kid };
  }

  const toBeSigned = (msg) => encode(["Signature1", msg.protectedBytes, new Uint8Array(0), msg.payload]);

  async function verifyES256(key, msg) {
    if (msg.signature.length !== 64) return false;
    try {
      return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, msg.signature, toBeSigned(msg));
    } catch (e) {
      return false;
    }
  }

  function verifySM2(xHex, yHex, msg) {
    const sm2 = global.sm2;
    if (!sm2 || msg.signature.length !== 64) return false;
    try {
      return sm2.doVerifySignature(Array.from(toBeSigned(msg)), hex(msg.signature), "04" + xHex + yHex, {
        hash: true,
        der: false,
        userId: "1234567812345678",
      });
    } catch (e) {
      return false;
    }
  }

  // ------------------------------------------------------------------ P-256 holder keys

  const P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
  const B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn;
  function modpow(b, e, m) {
    let r = 1n;
    b %= m;
    while (e > 0n) {
      if (e & 1n) r = (r * b) % m;
      b = (b * b) % m;
      e >>= 1n;
    }
    return r;
  }
  const bigFrom = (bytes) => BigInt("0x" + (hex(bytes) || "0"));
  const bytes32 = (n) => fromHex(n.toString(16).padStart(64, "0"));

  // The holder's COSE_Key (RFC 9053 §7.1.1, y as the sign bit or 32 bytes) → WebCrypto key.
  async function holderKey(cose) {
    const bad = () => new Refusal("invalid", "holder key: not an EC2 P-256 COSE_Key");
    for (const k of cose.keys()) if (![1, -1, -2, -3, 2, 3].includes(k)) throw bad();
    if (cose.get(1) !== 2 || cose.get(-1) !== 1) throw bad();
    if (cose.has(3) && cose.get(3) !== ALG_ES256) throw bad();
    const x = cose.get(-2), y = cose.get(-3);
    if (!isBytes(x) || x.length !== 32) throw bad();
    let yBytes;
    if (typeof y === "boolean") {
      const xn = bigFrom(x);
      if (xn >= P) throw bad();
      const rhs = (((xn * xn * xn - 3n * xn + B) % P) + P) % P;
      let yn = modpow(rhs, (P + 1n) / 4n, P);
      if ((yn * yn) % P !== rhs) throw bad();
      if ((yn & 1n) !== (y ? 1n : 0n)) yn = P - yn;
      yBytes = bytes32(yn);
    } else if (isBytes(y) && y.length === 32) {
      yBytes = y;
    } else {
      throw bad();
    }
    try {
      return await crypto.subtle.importKey("raw", concat([Uint8Array.of(4), x, yBytes]), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    } catch (e) {
      throw bad();
    }
  }

  // ------------------------------------------------------------------ identifiers and fields

  const ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  function mod37_36(s) {
    let p = 36;
    for (const c of s) {
      const v = ALNUM.indexOf(c);
      if (v < 0) return null;
      const t = (p + v) % 36 || 36;
      p = (t * 2) % 37;
    }
    return ALNUM[(37 - p) % 36];
  }
  const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  function usccOk(code) {
    if (!/^[0-9A-HJ-NP-RT-UW-Y]{2}\d{6}[0-9A-HJ-NP-RT-UW-Y]{10}$/.test(code)) return false;
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(code[i]) * USCC_WEIGHTS[i];
    return USCC_ALPHABET[(31 - (sum % 31)) % 31] === code[17] && orgCodeOk(code.slice(8, 17));
  }
  // GB 11714: the organisation code inside a USCC (characters 9-17).
  function orgCodeOk(code) {
    const w = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum = 0;
    for (let i = 0; i < 8; i++) {
      const v = ALNUM.indexOf(code[i]);
      if (v < 0) return false;
      sum += v * w[i];
    }
    const c = 11 - (sum % 11);
    return (c === 10 ? "X" : c === 11 ? "0" : String(c)) === code[8];
  }
  // GB 11643: the check character first, then the province and the birth date
  // (1800-01-01 .. today in China Standard Time). Only a final "x" is normalised.
  function citizenIdOk(value, idProvinces, now) {
    if (value.length !== 18) return null;
    const v = value.slice(0, 17) + (value[17] === "x" ? "X" : value[17]);
    if (!/^\d{17}[\dX]$/.test(v)) return null;
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += Number(v[i]) * w[i];
    if ("10X98765432"[sum % 11] !== v[17]) return null;
    if (!idProvinces.has(v.slice(0, 2))) return null;
    const birth = v.slice(6, 10) + "-" + v.slice(10, 12) + "-" + v.slice(12, 14);
    const today = new Date((now + 8 * 3600) * 1000).toISOString().slice(0, 10);
    if (!dateOk(birth) || birth < "1800-01-01" || birth > today) return null;
    return v;
  }
  function dateOk(value) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
    const [y, m, d] = value.split("-").map(Number);
    const t = new Date(Date.UTC(y, m - 1, d));
    return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
  }

  function parseIdentifier(compact, snapshot) {
    const bad = () => new Refusal("invalid", "bad license identifier");
    if (!isText(compact) || compact.startsWith(LICENSE_ID_PREFIX)) throw bad();
    const text = LICENSE_ID_PREFIX + "." + compact;
    if (text.length > LICENSE_ID_PREFIX.length + 5 + 21 + 18 + 64 + 3 + 1) throw bad();
    const parts = compact.split(".");
    if (parts.length !== 5) throw bad();
    const [typeCode, issuerCode, serial, version, check] = parts;
    if (!/^[0-9A-Z]{18}\d{3}$/.test(typeCode) || !usccOk(typeCode.slice(0, 18))) throw bad();
    if (!/^[0-9A-Z]{18}$/.test(issuerCode) || !usccOk(issuerCode)) throw bad();
    if (!/^[0-9A-Z]{1,64}$/.test(serial)) throw bad();
    if (!/^\d{3}$/.test(version) || Number(version) < 1) throw bad();
    if (check.length !== 1 || mod37_36(typeCode + issuerCode + serial + version) !== check) throw bad();
    const lt = snapshot.types[typeCode];
    if (!lt) throw new Refusal("invalid", "unknown license type");
    return { text, typeCode, lt };
  }

  function checkText(value) {
    if (value !== value.trim()) return false;
    // Unicode category C (control, format, unassigned, private use, surrogate), U+2028/9.
    return !/[\p{C}\u2028\u2029]/u.test(value);
  }

  function checkValue(lt, spec, value, shown, trust, now) {
    if (!isText(value) || !value || value.length > spec.max_length) return null;
    let kind = spec.kind;
    if (kind === "holder_code") {
      let codeType = lt.holder_code_types[0];
      if ("holder_code_type" in shown) {
        if (!lt.holder_code_types.includes(shown.holder_code_type)) return null;
        codeType = shown.holder_code_type;
      }
      if (codeType === "citizen_id") kind = "citizen_id";
      else if (codeType === "uscc") kind = "uscc";
      else return /^[0-9A-Z]{5,20}$/.test(value) ? value : null;
    }
    switch (kind) {
      case "text":
        return checkText(value) ? value : null;
      case "date":
        return dateOk(value) ? value : null;
      case "enum":
        return spec.choices.includes(value) ? value : null;
      case "citizen_id":
        return citizenIdOk(value, trust.idProvinces, now);
      case "uscc": {
        const v = /^[\x00-\x7f]*$/.test(value) ? value.toUpperCase() : value;
        return usccOk(v) ? v : null;
      }
      case "division":
        return /^\d{6}$/.test(value) && trust.provinces.has(value.slice(0, 2)) ? value : null;
      case "decimal":
        return /^(0|[1-9]\d{0,8})(\.\d{1,2})?$/.test(value) ? value : null;
      case "code":
        return /^[0-9A-Z][0-9A-Z-]*$/.test(value) ? value : null;
      default:
        return value;
    }
  }

  // ------------------------------------------------------------------ snapshot

  // The snapshot made usable: WebCrypto keys imported, status lists inflated.
  async function prepare(snapshot) {
    if (!snapshot || snapshot.format !== SNAPSHOT_FORMAT) throw new Error("not a counter snapshot");
    const issuers = new Map();
    for (const entry of snapshot.issuers) {
      const keys = [];
      for (const k of entry.keys) {
        const key = { kid: hex(b64urlToBytes(k.kid)), crv: k.crv, x: k.x, y: k.y, webcrypto: null };
        if (k.crv === "P-256") {
          try {
            key.webcrypto = await crypto.subtle.importKey("raw", fromHex("04" + k.x + k.y), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
          } catch (e) {
            continue;
          }
        }
        keys.push(key);
      }
      issuers.set(entry.id, { ...entry, keys, types: new Set(entry.license_types) });
    }
    const lists = new Map();
    for (const [uri, sl] of Object.entries(snapshot.status_lists)) {
      const raw = await inflate(fromBase64(sl.lst), 64 * 1024 * 1024);
      lists.set(uri, { issuer: sl.issuer, bits: sl.bits, raw, expires: Date.parse(sl.expires_at) / 1000 });
    }
    return {
      snapshot,
      issuers,
      lists,
      types: snapshot.types,
      provinces: new Set(snapshot.provinces),
      idProvinces: new Set(snapshot.id_provinces),
      usableUntil: snapshot.usable_until ? Date.parse(snapshot.usable_until) / 1000 : null,
    };
  }

  function stale(trust, now) {
    const s = trust.snapshot;
    if (s.stale) return s.stale;
    if (trust.usableUntil === null || now > trust.usableUntil) return "the trust data was usable until " + s.usable_until;
    return null;
  }

  function statusOf(trust, uri, idx) {
    const sl = trust.lists.get(uri);
    if (!sl || !isInt(idx) || typeof idx === "bigint") return null;
    const bit = idx * sl.bits;
    const byte = Math.floor(bit / 8);
    if (byte >= sl.raw.length) return null;
    return (sl.raw[byte] >> (bit % 8)) & ((1 << sl.bits) - 1);
  }

  // ------------------------------------------------------------------ replay

  // Presentations seen on this device (the hub's shared replay cache is out of
  // reach offline): key = SHA-256 of the key-binding token's signed content.
  class ReplayMemory {
    constructor(ttl = 330) {
      this.ttl = ttl;
      this.seen = new Map();
    }
    checkAndAdd(key, now) {
      for (const [k, t] of this.seen) if (now - t >= this.ttl) this.seen.delete(k);
      if (this.seen.has(key)) return true;
      this.seen.set(key, now);
      return false;
    }
  }

  // ------------------------------------------------------------------ the verdict

  async function sha256(data) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  }

  function timeClaim(claims, key) {
    const v = claims.get(key);
    if (v === undefined) return null;
    if (!isInt(v) || typeof v === "bigint" || v < 0 || v > MAX_TIME) throw malformed("claim " + key + " must be an integer NumericDate");
    return v;
  }

  async function verifyPresentation(presentation, trust, now, options) {
    // envelope: [credential, [disclosures], kb]
    let outer;
    try {
      outer = decodeCbor(presentation, { maxSize: MAX_PRESENTATION, maxDepth: 2, maxItems: 200 });
    } catch (e) {
      throw e;
    }
    if (Array.isArray(outer) && outer.length === 2 && isBytes(outer[0])) {
      throw new Refusal("holder_binding_missing", "no key-binding token: a copied credential");
    }
    if (
      !Array.isArray(outer) || outer.length !== 3 || !isBytes(outer[0]) || !Array.isArray(outer[1]) ||
      !isBytes(outer[2]) || outer[1].length > MAX_DISCLOSURES || !outer[1].every(isBytes)
    ) {
      throw malformed("expected [credential, [disclosures], kb]");
    }
    const [credBytes, disclosures, kbBytes] = outer;
    const cred = decodeSign1(credBytes, "gt-lic");
    const kb = decodeSign1(kbBytes, "gt-kb");
    const claims = decodeCbor(cred.payload, { maxSize: MAX_PRESENTATION, maxDepth: 4 });
    if (!(claims instanceof CborMap)) throw malformed("the payload is not a map");

    // the issuer's signature
    const iss = claims.get(CLAIM_ISS);
    if (!isText(iss) || !iss.length || iss.length > MAX_ISSUER_ID) throw malformed("iss must be text");
    if (cred.alg !== ALG_SM2 && cred.alg !== ALG_ES256) throw new Refusal("bad_signature", "COSE alg not allowed");
    const issuer = trust.issuers.get(iss);
    const kid = cred.kid === undefined ? null : hex(cred.kid);
    const crv = cred.alg === ALG_SM2 ? "SM2" : "P-256";
    const keys = issuer ? issuer.keys.filter((k) => kid === null || k.kid === kid) : [];
    if (!keys.length) throw new Refusal("untrusted_issuer", "no key for issuer " + iss);
    let signed = false;
    for (const key of keys) {
      if (key.crv !== crv) continue;
      signed = crv === "SM2" ? verifySM2(key.x, key.y, cred) : await verifyES256(key.webcrypto, cred);
      if (signed) break;
    }
    if (!signed) throw new Refusal("bad_signature", "the issuer signature does not verify");

    // the claims
    const known = [CLAIM_ISS, CLAIM_IAT, CLAIM_NBF, CLAIM_EXP, CLAIM_CNF, CLAIM_STATUS, CLAIM_LICENSE_ID, CLAIM_DIGESTS];
    for (const k of claims.keys()) if (!known.includes(k)) throw malformed("unknown claims");
    const iat = timeClaim(claims, CLAIM_IAT), nbf = timeClaim(claims, CLAIM_NBF), exp = timeClaim(claims, CLAIM_EXP);
    if (iat === null || nbf === null) throw malformed("iat and nbf are required");
    const id = parseIdentifier(claims.get(CLAIM_LICENSE_ID), trust);
    const lt = id.lt;
    const rawDigests = claims.get(CLAIM_DIGESTS);
    if (!isBytes(rawDigests) || rawDigests.length !== lt.digest_slots * DIGEST_SIZE) throw malformed("digests");
    const digests = new Set();
    let previous = null;
    for (let i = 0; i < rawDigests.length; i += DIGEST_SIZE) {
      const d = hex(rawDigests.subarray(i, i + DIGEST_SIZE));
      if (previous !== null && previous >= d) throw malformed("digests must be sorted and unique");
      digests.add(d);
      previous = d;
    }
    const cnf = claims.get(CLAIM_CNF);
    if (!(cnf instanceof CborMap) || cnf.size !== 1 || !cnf.has(1)) throw malformed("cnf");
    if (!(cnf.get(1) instanceof CborMap)) throw malformed("cnf COSE_Key");
    const holder = await holderKey(cnf.get(1));
    const status = claims.get(CLAIM_STATUS);
    const ref = status instanceof CborMap && status.size === 1 ? status.get("status_list") : undefined;
    if (
      !(ref instanceof CborMap) || ref.size !== 2 || !ref.has("idx") || !ref.has("uri") || !isInt(ref.get("idx")) ||
      ref.get("idx") < 0 || !isText(ref.get("uri")) || !ref.get("uri").length || ref.get("uri").length > MAX_URI
    ) {
      throw malformed("status");
    }
    const leeway = trust.snapshot.leeway;
    if (exp !== null && now >= exp + leeway) throw new Refusal("expired", "the license has expired");
    if (now < nbf - leeway) throw new Refusal("not_yet_valid", "the license is not yet valid");
    if (iat > now + leeway) throw new Refusal("not_yet_valid", "the license is issued in the future");

    // the disclosures
    const seen = new Set();
    const byLabel = new Map();
    for (const raw of disclosures) {
      const d = hex((await sha256(raw)).subarray(0, DIGEST_SIZE));
      if (!digests.has(d)) throw new Refusal("disclosure_not_signed", "a disclosure is not in the signed digests");
      if (seen.has(d)) throw new Refusal("holder_binding_invalid", "a disclosure is shown twice");
      seen.add(d);
      const item = decodeCbor(raw, { maxSize: MAX_DISCLOSURE_SIZE, maxDepth: 1, maxItems: 4 });
      if (!Array.isArray(item) || item.length !== 3 || !isBytes(item[0]) || item[0].length !== SALT_SIZE || !isInt(item[1]) || !isText(item[2])) {
        throw malformed("expected [salt, label, value]");
      }
      const spec = lt.fields.find((f) => f.label === item[1]);
      if (!spec) throw new Refusal("invalid", "label " + item[1] + " is not in the type's schema");
      if (byLabel.has(item[1])) throw new Refusal("holder_binding_invalid", "label disclosed twice");
      byLabel.set(item[1], item[2]);
    }
    const shown = {};
    for (const spec of lt.fields) if (byLabel.has(spec.label)) shown[spec.key] = byLabel.get(spec.label);
    for (const spec of lt.fields) {
      if (!(spec.key in shown)) continue;
      const value = checkValue(lt, spec, shown[spec.key], shown, trust, now);
      if (value === null) throw new Refusal("invalid", spec.key + ": not a valid value");
      shown[spec.key] = value;
    }

    // the holder's key binding
    if (kb.alg !== ALG_ES256) throw new Refusal("holder_binding_invalid", "the key-binding token must be ES256");
    if (!(await verifyES256(holder, kb))) throw new Refusal("holder_binding_invalid", "the key-binding signature does not verify");
    const kbc = decodeCbor(kb.payload, { maxSize: MAX_PRESENTATION, maxDepth: 4 });
    if (!(kbc instanceof CborMap)) throw malformed("the payload is not a map");
    for (const k of kbc.keys()) if (![CLAIM_IAT, CLAIM_SD_HASH, CLAIM_CNONCE, CLAIM_AUD].includes(k)) throw malformed("unknown key-binding claims");
    const kbIat = kbc.get(CLAIM_IAT), sdHash = kbc.get(CLAIM_SD_HASH);
    const nonce = kbc.get(CLAIM_CNONCE), aud = kbc.get(CLAIM_AUD);
    if (!isInt(kbIat) || !isBytes(sdHash) || (nonce !== undefined && !isBytes(nonce)) || (aud !== undefined && !isText(aud))) {
      throw malformed("iat, sd_hash, nonce or aud has the wrong type");
    }
    if (kbIat > now + leeway) throw new Refusal("presentation_expired", "the key-binding token is issued in the future");
    if (now - Number(kbIat) > trust.snapshot.max_kb_age) throw new Refusal("presentation_expired", "the key-binding token is too old");
    if (options.expectedNonce && (!nonce || !equal(nonce, options.expectedNonce))) throw new Refusal("nonce_mismatch", "the nonce is not the verifier's");
    if (options.expectedAud && aud !== options.expectedAud) throw new Refusal("audience_mismatch", "the audience is not this verifier");
    const bound = (await sha256(encode([credBytes, disclosures]))).subarray(0, DIGEST_SIZE);
    if (!equal(sdHash, bound)) throw new Refusal("holder_binding_invalid", "sd_hash does not bind these disclosures");

    // the status
    const uri = ref.get("uri"), idx = ref.get("idx");
    const value = statusOf(trust, uri, idx);
    if (value === 1) throw new Refusal("revoked", "the license is revoked");
    if (value === 2) throw new Refusal("suspended", "the license is suspended");
    if (value !== 0) throw new Refusal("status_unknown", "no status list " + uri + " in the trust data");

    const replayKey = hex(await sha256(concat([kb.protectedBytes, Uint8Array.of(0), kb.payload])));
    return {
      issuerId: iss,
      typeCode: id.typeCode,
      lt,
      identifier: id.text,
      fields: shown,
      validFrom: nbf,
      validUntil: exp,
      kbIat: Number(kbIat),
      statusUri: uri,
      replayKey,
    };
  }

  const iso = (t) => new Date(t * 1000).toISOString().replace(".000Z", "+00:00");

  // The verdict on a scanned QR text, shaped like /verifier/api/verify's answer.
  // ``trust``: prepare(snapshot). Never throws for bad input.
  async function verifyQrText(text, trust, options = {}) {
    const now = options.now !== undefined ? options.now : Math.floor(Date.now() / 1000);
    const replay = options.replay || null;
    const verdict = (reason, detail, issuer, lic) => ({
      verdict: reason === null ? "VALID" : INDETERMINATE_REASONS.has(reason) ? "INDETERMINATE" : "INVALID",
      reasons: reason === null ? [] : [reason],
      detail: detail || "",
      issuer: issuer ? { id: issuer.id, name_zh: issuer.name_zh, name_en: issuer.name_en } : undefined,
      license: lic,
      kind: "license",
      offline: true,
    });
    if (typeof text !== "string") return verdict("malformed", "the QR content must be text");
    text = text.trim();
    if (text.length > MAX_QR_TEXT) return verdict("malformed", "longer than " + MAX_QR_TEXT + " characters");
    if (!text.startsWith(PREFIX) && text.slice(0, 8).includes(":")) {
      return verdict("unsupported_version", "this verifier reads " + PREFIX);
    }
    let presentation;
    try {
      if (!text.startsWith(PREFIX)) throw malformed("unknown or missing context prefix");
      presentation = await inflate(base45Decode(text.slice(PREFIX.length)), MAX_INFLATED);
      if (presentation.length > MAX_PRESENTATION) throw malformed("presentation too large");
    } catch (e) {
      return verdict("malformed", e instanceof Refusal ? e.detail : "unreadable");
    }
    const why = stale(trust, now);
    if (why) return verdict("stale_trust_data", why);
    let lic;
    try {
      lic = await verifyPresentation(presentation, trust, now, options);
    } catch (e) {
      if (e instanceof Refusal) return verdict(e.reason, e.detail);
      return verdict("malformed", "unreadable");
    }
    const issuer = trust.issuers.get(lic.issuerId);
    const en = options.lang === "en";
    const license = {
      type_code: lic.typeCode,
      type_name_zh: lic.lt.name_zh,
      type_name_en: lic.lt.name_en,
      identifier: lic.identifier,
      fields: lic.fields,
      field_labels: Object.fromEntries(lic.lt.fields.filter((f) => f.key in lic.fields).map((f) => [f.key, en ? f.name_en : f.name_zh])),
      valid_from: iso(lic.validFrom),
      valid_until: lic.validUntil === null ? null : iso(lic.validUntil),
      presented_at: iso(lic.kbIat),
    };
    const sl = trust.lists.get(lic.statusUri);
    if (sl && sl.issuer !== lic.issuerId) {
      return verdict("status_unknown", "the status list " + lic.statusUri + " is signed by another issuer", issuer, license);
    }
    if (!issuer.active) return verdict("issuer_inactive", issuer.name_zh + " is not active", issuer, license);
    if (!issuer.types.has(lic.typeCode)) {
      return verdict("issuer_not_authorized_for_type", issuer.name_zh + " may not issue " + lic.lt.name_zh, issuer, license);
    }
    if (replay && (await replay.checkAndAdd(lic.replayKey, now))) {
      return verdict("replayed", "this presentation was already shown", issuer, license);
    }
    return verdict(null, "", issuer, license);
  }

  // ------------------------------------------------------------------ storage

  // IndexedDB "govtrust-counter": store "snapshot" holds the latest snapshot
  // (no personal data); store "replay" the replay keys seen on this device
  // with their time (pruned after the TTL).
  function openStore() {
    return new Promise((resolve, reject) => {
      const req = indexedDB.open("govtrust-counter", 1);
      req.onupgradeneeded = () => {
        req.result.createObjectStore("snapshot");
        req.result.createObjectStore("replay");
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  function tx(db, store, mode, fn) {
    return new Promise((resolve, reject) => {
      const t = db.transaction(store, mode);
      const result = fn(t.objectStore(store));
      t.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error);
    });
  }
  const saveSnapshot = (db, snapshot) => tx(db, "snapshot", "readwrite", (s) => s.put(snapshot, "latest"));
  const loadSnapshot = (db) => tx(db, "snapshot", "readonly", (s) => s.get("latest"));

  // A replay store in IndexedDB: survives reloads of the page while offline.
  class ReplayStore {
    constructor(db, ttl = 330) {
      this.db = db;
      this.ttl = ttl;
    }
    async checkAndAdd(key, now) {
      const ttl = this.ttl;
      return new Promise((resolve, reject) => {
        const t = this.db.transaction("replay", "readwrite");
        const s = t.objectStore("replay");
        let seen = false;
        const get = s.get(key);
        get.onsuccess = () => {
          seen = get.result !== undefined && now - get.result < ttl;
          if (!seen) s.put(now, key);
        };
        const cursor = s.openCursor();
        cursor.onsuccess = () => {
          const c = cursor.result;
          if (!c) return;
          if (now - c.value >= ttl && c.key !== key) c.delete();
          c.continue();
        };
        t.oncomplete = () => resolve(seen);
        t.onerror = () => reject(t.error);
      });
    }
  }

  global.GovTrustOffline = { verifyQrText, prepare, ReplayMemory, ReplayStore, openStore, saveSnapshot, loadSnapshot, SNAPSHOT_FORMAT };
})(typeof self !== "undefined" ? self : this);
