"""The counter page (``/verifier/``): a service-hall clerk scans a citizen's
e-license QR — with the device camera, a keyboard-wedge scanner that types the
text, or a photo — or uploads a sealed document, and gets a verdict at once.

=================================  ===========================================================
``GET /verifier/``                 the page (Simplified Chinese; ``?lang=en``)
``POST /verifier/api/verify``      ``{"text": "GT1:…"}`` → license verdict (JSON)
``POST /verifier/api/verify-file`` multipart ``file``: a QR photo (PNG/JPEG/WebP) → license
                                   verdict; anything else → sealed-document verdict
``POST /verifier/api/decode-frame`` multipart ``frame``: a camera frame the browser could not
                                   decode → 204 (no QR) or ``{"text": …}`` (zxing-cpp)
``GET /verifier/api/trust``        how fresh the trust data is (source, synced, usable until)
=================================  ===========================================================

Verdicts come from :mod:`verifier.licenses`, :mod:`verifier.images` and
:mod:`verifier.documents` against the synced offline bundle when this machine
has one (``govtrust verifier sync``), else the hub's own data
(:mod:`govtrust.verifier_trust`); the page says which, and how old it is.
A counter machine runs ``govtrust serve`` with a synced cache and needs no
network to the hub.

Privacy: nothing the clerk scans is stored or logged; answers are
``Cache-Control: no-store``; the page clears the verdict and the disclosed data
when the clerk presses 清除 and on its own after ``CLEAR_AFTER`` seconds.
A replay cache in the hub database (shared by every worker process and instance)
flags a presentation shown twice.

POSTs carry the page's CSRF token in ``X-CSRF-Token`` (JSON) or ``csrf_token``
(multipart), checked against the session (synchronizer pattern).
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, render_template, request, session

from govtrust.i18n import current_language, register, translate
from govtrust.ratelimit import rate_limiter, retry_after
from govtrust.security import csrf_token
from govtrust.verifier_trust import CachedTrust
from verifier.documents import verify_document
from verifier.id_tokens import looks_like_jwt, verify_id_token
from verifier.images import (
    MAX_IMAGE_BYTES,
    UnreadableImage,
    decode_qr_image,
    verify_license_image,
)
from verifier.licenses import MAX_QR_TEXT, LicenseVerdict, ReplayStore, verify_license_qr
from verifier.reasons import REASON_TEXT, reason_text

__all__ = ["bp", "CLEAR_AFTER"]

#: Seconds after which the page clears a verdict and the data shown with it.
CLEAR_AFTER: Final = 60
#: The largest camera frame accepted (a 1920×1080 JPEG is ~0.5 MB).
MAX_FRAME: Final = 4 * 1024 * 1024
#: The largest sealed document accepted here (the seal library's own limit).
MAX_DOCUMENT: Final = 10 * 1024 * 1024
_IMAGE_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")

bp = Blueprint(
    "counter",
    __name__,
    url_prefix="/verifier",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

register(
    {
        "counter.title": {"zh": "窗口核验", "en": "Counter verification"},
        "counter.intro": {
            "zh": "扫描电子证照二维码，或上传二维码照片、签章文件，立即得出核验结论。",
            "en": "Scan an e-license QR code, or upload a photo of one or a sealed "
            "document, and get a verdict at once.",
        },
        "counter.scan.heading": {"zh": "扫码", "en": "Scan"},
        "counter.camera.start": {"zh": "打开摄像头扫码", "en": "Scan with the camera"},
        "counter.camera.stop": {"zh": "关闭摄像头", "en": "Stop the camera"},
        "counter.camera.unavailable": {
            "zh": "此设备或浏览器无法使用摄像头，请使用扫码枪或上传照片。",
            "en": "No camera is available here; use a scanner or upload a photo.",
        },
        "counter.camera.looking": {"zh": "正在识别二维码……", "en": "Looking for a QR code…"},
        "counter.text.label": {
            "zh": "二维码内容（扫码枪输入后自动提交）",
            "en": "QR text (a scanner submits on Enter)",
        },
        "counter.text.submit": {"zh": "核验", "en": "Verify"},
        "counter.file.label": {
            "zh": "上传二维码照片或签章文件（OFD、PDF）",
            "en": "Upload a QR photo or a sealed document (OFD, PDF)",
        },
        "counter.file.submit": {"zh": "上传核验", "en": "Upload and verify"},
        "counter.clear": {"zh": "清除", "en": "Clear"},
        "counter.cleared_after": {
            "zh": "结论与证照信息将在 {seconds} 秒后自动清除，不会被保存。",
            "en": "The verdict and the data shown are cleared after {seconds} seconds "
            "and never stored.",
        },
        "counter.verdict.VALID": {"zh": "有效", "en": "VALID"},
        "counter.verdict.INVALID": {"zh": "无效", "en": "INVALID"},
        "counter.verdict.INDETERMINATE": {"zh": "无法确定", "en": "INDETERMINATE"},
        "counter.working": {"zh": "核验中……", "en": "Verifying…"},
        "counter.issuer": {"zh": "发证机关", "en": "Issuer"},
        "counter.type": {"zh": "证照类型", "en": "License type"},
        "counter.identifier": {"zh": "证照标识", "en": "License identifier"},
        "counter.validity": {"zh": "有效期", "en": "Valid"},
        "counter.long_term": {"zh": "长期", "en": "no end date"},
        "counter.fields": {"zh": "出示的信息", "en": "Disclosed data"},
        "counter.signatures": {"zh": "签章", "en": "Signatures"},
        "counter.trust.heading": {"zh": "信任数据", "en": "Trust data"},
        "counter.trust.bundle": {
            "zh": "离线信任包：{synced} 同步，可用至 {until}",
            "en": "Offline trust bundle: synced {synced}, usable until {until}",
        },
        "counter.trust.hub": {
            "zh": "本机中心数据库（实时）",
            "en": "This hub's own database (live)",
        },
        "counter.trust.none": {
            "zh": "没有信任数据：请运行 govtrust verifier sync",
            "en": "No trust data: run govtrust verifier sync",
        },
        "counter.local.loading": {
            "zh": "正在准备浏览器离线核验数据……",
            "en": "Preparing this browser's offline trust data…",
        },
        "counter.local.ready": {
            "zh": "浏览器离线核验数据：{generated} 生成，可用至 {until}",
            "en": "Offline data in this browser: made {generated}, usable until {until}",
        },
        "counter.local.none": {
            "zh": "浏览器中没有离线核验数据：联网打开本页一次即可保存。",
            "en": "No offline data in this browser: open this page once while online.",
        },
        "counter.local.stale": {
            "zh": "（已过期，联网后自动更新）",
            "en": "(too old; renewed when the hub can be reached)",
        },
        "counter.local.verdict": {
            "zh": "本结论由本机浏览器离线核验得出，未经核验服务（重复出示仅在本设备内可发现）。",
            "en": "Verified offline in this browser, without the verification service "
            "(a repeated QR is caught on this device only).",
        },
        "counter.local.unsupported": {
            "zh": "离线时只能核验电子证照二维码；签章文件和身份令牌需要连接核验服务。",
            "en": "Offline, only e-license QR codes can be verified; sealed documents and "
            "ID tokens need the verification service.",
        },
        "counter.trust.stale": {"zh": "信任数据过旧：{why}", "en": "Trust data too old: {why}"},
        **{
            f"counter.claim.{k}": {"zh": zh, "en": en}
            for k, zh, en in (
                ("iss", "签发者", "Issuer"),
                ("sub", "用户标识", "Subject"),
                ("aud", "接收方", "Audience"),
                ("name", "姓名", "Name"),
                ("acr", "认证等级", "Assurance level"),
                ("amr", "认证方式", "Authentication methods"),
                ("auth_time", "认证时间", "Authenticated at"),
                ("iat", "签发时间", "Issued at"),
                ("exp", "过期时间", "Expires at"),
                ("sid", "会话标识", "Session"),
                ("enterprise_name", "企业名称", "Enterprise"),
                ("uscc", "统一社会信用代码", "Unified social credit code"),
            )
        },
        "counter.err.csrf": {
            "zh": "页面已过期，请刷新后重试。",
            "en": "The page has expired; reload it and try again.",
        },
        "counter.err.bad_request": {
            "zh": "请求无法处理。",
            "en": "The request could not be handled.",
        },
        "counter.err.rate_limited": {
            "zh": "请求过于频繁，请稍后再试。",
            "en": "Too many requests; please try again shortly.",
        },
        "counter.err.network": {
            "zh": "无法连接核验服务。",
            "en": "The verification service cannot be reached.",
        },
    }
)


def _replays() -> ReplayStore:
    """The hub database's replay cache: shared by every worker of ``govtrust serve``."""
    store = current_app.extensions.get("govtrust.counter_replays")
    if store is None:
        from govtrust.replay_store import DatabaseReplayCache

        hub = _hub()
        store = DatabaseReplayCache(hub.db, clock=hub.clock)
        current_app.extensions["govtrust.counter_replays"] = store
    return store


def _hub() -> Any:
    return current_app.extensions["govtrust"]


def _trust_cache() -> CachedTrust:
    ext = current_app.extensions
    cached = ext.get("govtrust.counter_trust")
    if cached is None:
        hub = _hub()
        cache_dir = Path(hub.config.verifier_cache)
        cached = CachedTrust(cache_dir, lambda: hub)
        ext["govtrust.counter_trust"] = cached
    return cached


def _now() -> datetime:
    """The hub's clock (tests move it), else the system's."""
    clock = getattr(_hub(), "clock", None)
    return clock() if callable(clock) else datetime.now(UTC)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _error(code: str, status: int) -> Response:
    from govtrust.i18n import translate

    response = jsonify({"error": code, "message": translate(f"counter.err.{code}")})
    response.status_code = status
    return _no_store(response)


def _csrf_ok() -> bool:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(str(sent).encode(), str(expected).encode())


def _reasons(codes: Any) -> list[dict[str, str]]:
    lang = current_language()
    return [{"code": c, "text": reason_text(c, lang)} for c in codes]


def _license_body(verdict: LicenseVerdict) -> dict[str, Any]:
    body = verdict.as_dict()
    body["kind"] = "license"
    body["reason_texts"] = _reasons(verdict.reasons)
    lic = verdict.license
    if lic is not None:
        from license_wallet.types import license_type

        lt = license_type(lic.type_code)
        en = current_language() == "en"
        labels = {f.key: (f.name_en if en else f.name_zh) for f in lt.fields}
        body["license"]["field_labels"] = {k: labels.get(k, k) for k in lic.fields}
    return body


def _trust_info() -> dict[str, Any]:
    now = _now()
    return _trust_cache().get(now).freshness(now)


#: Counter API requests per second per client address, and the burst allowed
#: (a clerk scans about once a second; the camera sends at most 4 frames a second).
DEFAULT_RATE_LIMIT: Final = (10.0, 40)


@bp.before_request
def _rate_limit() -> Response | None:
    """Every POST of the counter API spends a token of the caller's bucket: 429 with
    ``Retry-After`` when it is empty (``COUNTER_RATE_LIMIT`` = (rate, burst))."""
    if request.method != "POST":
        return None
    bucket = current_app.extensions.get("govtrust.counter_bucket")
    if bucket is None:
        rate, burst = current_app.config.get("COUNTER_RATE_LIMIT", DEFAULT_RATE_LIMIT)
        bucket = rate_limiter(_hub().config.redis_url, "counter", rate, burst)
        current_app.extensions["govtrust.counter_bucket"] = bucket
    wait = bucket.take(request.remote_addr or "unknown")
    if not wait:
        return None
    response = _error("rate_limited", 429)
    response.headers["Retry-After"] = retry_after(wait)
    return response


@bp.get("/")
def home() -> Response:
    page = render_template(
        "counter/home.html",
        csrf=csrf_token(),
        clear_after=CLEAR_AFTER,
        trust=_trust_info(),
        reason_texts={
            k: v[1] if current_language() == "en" else v[0] for k, v in REASON_TEXT.items()
        },
        max_qr_text=MAX_QR_TEXT,
    )
    return _no_store(Response(page, mimetype="text/html"))


@bp.get("/api/trust")
def trust_info() -> Response:
    return _no_store(jsonify(_trust_info()))


@bp.get("/api/snapshot")
def snapshot() -> Response:
    """The trust snapshot the page keeps in the browser for offline verification
    (:mod:`verifier.browser`): issuers, license keys, status lists, the type
    catalogue. No personal data; revalidated on every use (``no-cache``)."""
    now = _now()
    body = _trust_cache().get(now).browser_snapshot(_hub(), now)
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """The page's service worker, served from ``/verifier/`` so that its scope is
    the counter page: it keeps the page, its scripts and the snapshot for offline use."""
    response = bp.send_static_file("sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    return response


@bp.post("/api/verify")
def verify_text() -> Response:
    if not _csrf_ok():
        return _error("csrf", 400)
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return _error("bad_request", 400)
    now = _now()
    source = _trust_cache().get(now)
    if looks_like_jwt(text):  # an ID token pasted or scanned
        token = verify_id_token(text, source.trust, now=now)
        body = {**token.as_dict(), "reason_texts": _reasons(token.reasons)}
        body["claim_labels"] = {k: translate(f"counter.claim.{k}") for k in token.claims}
        return _no_store(jsonify({**body, "trust": source.freshness(now)}))
    verdict = verify_license_qr(text, source.trust, now=now, replay_cache=_replays())
    return _no_store(jsonify({**_license_body(verdict), "trust": source.freshness(now)}))


@bp.post("/api/decode-frame")
def decode_frame() -> Response:
    """One camera frame (JPEG or PNG from the page's canvas) that the browser's own
    decoder could not read, decoded with zxing-cpp: 204 when it holds no QR code
    (the page keeps scanning), else ``{"text": …}``, which the page then submits
    to ``/api/verify`` like any scan (one verification, one replay-cache entry).
    The frame is not kept."""
    if not _csrf_ok():
        return _error("csrf", 400)
    upload = request.files.get("frame")
    if upload is None:
        return _error("bad_request", 400)
    try:
        data = upload.stream.read(MAX_FRAME + 1)
    finally:
        upload.close()  # a large part is spooled to a temporary file: closed now, not by GC
    if len(data) > MAX_FRAME:
        return _error("bad_request", 413)
    try:
        texts = decode_qr_image(data)
    except UnreadableImage:
        return _no_store(Response(status=204))
    return _no_store(jsonify({"text": texts[0][:MAX_QR_TEXT]}))


@bp.post("/api/verify-file")
def verify_file() -> Response:
    if not _csrf_ok():
        return _error("csrf", 400)
    upload = request.files.get("file")
    if upload is None:
        return _error("bad_request", 400)
    try:
        data = upload.stream.read(max(MAX_IMAGE_BYTES, MAX_DOCUMENT) + 1)
    finally:
        upload.close()  # a large part is spooled to a temporary file: closed now, not by GC
    now = _now()
    source = _trust_cache().get(now)
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        verdict, _ = verify_license_image(data, source.trust, now=now, replay_cache=_replays())
        body = {**_license_body(verdict), "input": "qr-image"}
    else:
        from verifier.documents import DocumentVerdict

        roots, intermediates = source.document_anchors(_hub())
        if len(data) > MAX_DOCUMENT:
            doc = DocumentVerdict("INDETERMINATE", ("malformed",), None, detail="too large")
        else:
            doc = verify_document(data, roots=roots, intermediates=intermediates)
        body = {**doc.to_dict(), "reason_texts": _reasons(doc.reasons), "input": "document"}
        body["kind"] = "document"
        body["document_kind"] = doc.kind
    return _no_store(jsonify({**body, "trust": source.freshness(now)}))
