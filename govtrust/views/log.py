"""The transparency log over HTTP: checkpoint, entries, proofs, key, and a public browser.

==================================  =============================================================
``GET /log/checkpoint``             the latest signed checkpoint (C2SP signed note, text/plain)
``GET /log/entries?start=&end=``    entries ``[start, end)``; at most 1000, fewer past the head
``GET /log/proof/inclusion``        ``?index=N&size=S`` or ``?leaf_hash=HEX&size=S`` (RFC 9162)
``GET /log/proof/consistency``      ``?old=M&new=N`` (RFC 9162)
``GET /log/key``                    the checkpoint key(s): PEM, note key name, key ID, vkey
``GET /log/``                       the log browser (HTML): checkpoint, recent events, lookup
==================================  =============================================================

Hashes in proofs are standard base64, as in checkpoints; leaf hashes are hex.
A bad parameter is a 400 with ``{"error": "invalid_request", "error_description": …}``.
Everything needed to check the hub is public: a third party saves a
checkpoint, and later asks for a newer one and a consistency proof
(``govtrust log verify`` does exactly that).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Final

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from govtrust.i18n import register
from govtrust.tlog_store import MAX_ENTRIES, MAX_INDEX, LogRangeError, TransparencyLog
from keys import HUB, KeyInfo, KeyPurpose, KeyState
from trust import KeyFamily, b64url_decode
from trust.tlog import (
    Checkpoint,
    LogError,
    key_id,
    leaf_hash,
    parse_checkpoint,
    parse_note,
    verify_inclusion,
    verify_note,
)

__all__ = ["bp"]

bp = Blueprint("log", __name__, url_prefix="/log")

DEFAULT_ENTRIES: Final = 100
RECENT: Final = 50
_DECIMAL: Final = re.compile(r"[0-9]+", re.ASCII)
_HEX_HASH: Final = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_MAX_QUERY: Final = 128


class BadRequest(Exception):
    """A parameter that cannot be used; answered with 400 and the reason."""


def _hub() -> Any:
    return current_app.extensions["govtrust"]


def _log() -> TransparencyLog:
    return _hub().log  # type: ignore[no-any-return]


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _int_arg(name: str, *, default: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        if default is None:
            raise BadRequest(f"{name} is required")
        return default
    if not _DECIMAL.fullmatch(raw):
        raise BadRequest(f"{name} must be a non-negative decimal integer")
    if len(raw) > 19 or int(raw) > MAX_INDEX:
        raise BadRequest(f"{name} must be below 2**63")
    return int(raw)


def _hash_arg(name: str) -> bytes:
    raw = request.args.get(name, "")
    if not _HEX_HASH.fullmatch(raw):
        raise BadRequest(f"{name} must be 64 hexadecimal digits")
    return bytes.fromhex(raw)


def _bad(reason: str, status: int = 400, error: str = "invalid_request") -> tuple[Response, int]:
    return jsonify(error=error, error_description=reason), status


@bp.errorhandler(BadRequest)
def _bad_request(exc: BadRequest) -> tuple[Response, int]:
    return _bad(str(exc))


@bp.errorhandler(LogRangeError)
def _out_of_range(exc: LogRangeError) -> tuple[Response, int]:
    return _bad(exc.message)


@bp.errorhandler(LogError)
def _log_error(exc: LogError) -> tuple[Response, int]:
    # The hub's own log is damaged or refuses to sign (log_corrupt, log_fork, log_rollback).
    current_app.logger.error("transparency log: %s: %s", exc.code, exc.message)
    return _bad(exc.message, 500, exc.code)


# --------------------------------------------------------------------------- API


@bp.get("/checkpoint")
def checkpoint() -> Response:
    resp = Response(_log().checkpoint(), mimetype="text/plain")
    resp.headers["Content-Type"] = "text/plain; charset=utf-8"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.get("/entries")
def entries() -> Response:
    log = _log()
    start = _int_arg("start")
    end = _int_arg("end", default=start + DEFAULT_ENTRIES)
    if end <= start:
        raise BadRequest("end must be greater than start")
    size = log.head().size
    if start >= size:
        raise BadRequest(f"start {start} is beyond the log ({size} entries)")
    end = min(end, start + MAX_ENTRIES, size)
    items = [
        {
            "index": e.index,
            "leaf_hash": e.leaf_hash.hex(),
            "kind": e.kind,
            "data": e.data,
            "leaf": _b64(e.leaf),
            "created_at": e.created_at.isoformat(),
        }
        for e in log.entries(start, end)
    ]
    return jsonify(start=start, end=end, entries=items)


@bp.get("/proof/inclusion")
def inclusion() -> Any:
    log = _log()
    size = _int_arg("size")
    has_index, has_hash = bool(request.args.get("index")), bool(request.args.get("leaf_hash"))
    if has_index == has_hash:
        raise BadRequest("give exactly one of index and leaf_hash")
    body: dict[str, Any] = {}
    if has_hash:
        wanted = _hash_arg("leaf_hash")
        found = log.find_leaf(wanted)
        if found is None:
            return _bad("no entry has this leaf hash", 404, "not_found")
        index = found
        body["leaf_hash"] = wanted.hex()
    else:
        index = _int_arg("index")
    proof = log.inclusion_proof(index, size)
    return jsonify(index=index, size=size, proof=[_b64(p) for p in proof], **body)


@bp.get("/proof/consistency")
def consistency() -> Response:
    old, new = _int_arg("old"), _int_arg("new")
    proof = _log().consistency_proof(old, new)
    return jsonify(old=old, new=new, proof=[_b64(p) for p in proof])


def _key_json(origin: str, info: KeyInfo) -> dict[str, Any]:
    kid = key_id(origin, info.public_key)
    out: dict[str, Any] = {
        "kid": info.kid,
        "state": info.state.value,
        "algorithm": info.algorithm.name,
        "key_name": origin,
        "key_id": kid.hex(),
        "public_key_pem": info.public_key.pem().decode("ascii"),
    }
    if info.public_key.family is KeyFamily.ED25519:
        # golang.org/x/mod/sumdb/note verifier key: name+hash+base64(0x01 || key).
        raw = b"\x01" + b64url_decode(info.public_key.jwk()["x"])
        out["vkey"] = f"{origin}+{kid.hex()}+{_b64(raw)}"
    return out


def _log_keys() -> list[KeyInfo]:
    keys = _hub().keys.list(
        purpose=KeyPurpose.LOG, owner=HUB, states=(KeyState.ACTIVE, KeyState.RETIRING)
    )
    return sorted(keys, key=lambda k: k.state is not KeyState.ACTIVE)


@bp.get("/key")
def key() -> Any:
    origin = _log().origin
    keys = [_key_json(origin, k) for k in _log_keys()]
    if not keys:
        return _bad("the log has no key yet", 503, "log_no_key")
    return jsonify(origin=origin, **keys[0], keys=keys)


# --------------------------------------------------------------------------- browser


def _lookup(log: TransparencyLog, query: str, cp: Checkpoint) -> dict[str, Any]:
    """Find a leaf by index or hash and check its inclusion proof against ``cp``."""
    if _DECIMAL.fullmatch(query):
        index: int | None = int(query) if len(query) <= 19 else None
    elif _HEX_HASH.fullmatch(query):
        index = log.find_leaf(bytes.fromhex(query))
    else:
        return {"error": "log.lookup.bad"}
    if index is None or index > MAX_INDEX:
        return {"error": "log.lookup.missing"}
    entry = log.entry(index)
    if entry is None or index >= cp.size:
        return {"error": "log.lookup.missing"}
    computed = leaf_hash(entry.leaf)
    try:
        proof = log.inclusion_proof(index, cp.size)
    except LogError:
        return {"entry": entry, "computed": computed, "proof": [], "ok": False}
    return {
        "entry": entry,
        "computed": computed,
        "proof": proof,
        "ok": verify_inclusion(computed, index, cp.size, proof, cp.root_hash),
    }


@bp.get("/")
def index() -> str:
    log = _log()
    note = error = None
    cp: Checkpoint | None = None
    signed = False
    try:
        note = log.checkpoint()
        cp = parse_checkpoint(parse_note(note).text)
        keys = _log_keys()
        signed = any(_verifies(note, log.origin, k) for k in keys)
    except LogError as exc:
        error = exc.message
    query = request.args.get("q", "").strip()[:_MAX_QUERY]
    result = _lookup(log, query, cp) if query and cp is not None else None
    return render_template(
        "log/index.html",
        origin=log.origin,
        note=note,
        checkpoint=cp,
        signed=signed,
        error=error,
        recent=log.recent(RECENT),
        query=query,
        result=result,
        b64=_b64,
        compact=_compact,
    )


def _compact(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _verifies(note: str, origin: str, info: KeyInfo) -> bool:
    try:
        verify_note(note, {origin: info.public_key}, origin=origin)
    except LogError:
        return False
    return True


register(
    {
        "log.title": {"zh": "透明日志", "en": "Transparency log"},
        "log.intro": {
            "zh": "每一项与信任相关的事件（参与方变更、信任列表发布、密钥轮换、"
            "用印、证照签发与吊销）都记入 RFC 9162 默克尔树；"
            "签名检查点让任何人都能核对平台没有篡改或删除记录。",
            "en": "Every trust-relevant event (participant changes, trust-list publication, key "
            "rotation, seals, licenses issued or revoked) is a leaf of an RFC 9162 Merkle tree; "
            "signed checkpoints let anyone check that the hub rewrote or removed nothing.",
        },
        "log.checkpoint": {"zh": "最新检查点", "en": "Latest checkpoint"},
        "log.origin": {"zh": "日志标识", "en": "Origin"},
        "log.size": {"zh": "条目数", "en": "Tree size"},
        "log.root": {"zh": "根哈希", "en": "Root hash"},
        "log.note": {"zh": "签名检查点", "en": "Signed note"},
        "log.signature": {"zh": "平台签名", "en": "Hub signature"},
        "log.sig.ok": {"zh": "✓ 有效", "en": "✓ valid"},
        "log.sig.bad": {"zh": "✗ 无法验证", "en": "✗ does not verify"},
        "log.unavailable": {"zh": "检查点暂不可用：", "en": "Checkpoint unavailable: "},
        "log.recent": {"zh": "最近事件", "en": "Recent events"},
        "log.empty": {"zh": "日志尚无条目。", "en": "The log has no entries yet."},
        "log.index": {"zh": "序号", "en": "Index"},
        "log.kind": {"zh": "类型", "en": "Kind"},
        "log.time": {"zh": "时间（UTC）", "en": "Time (UTC)"},
        "log.leaf_hash": {"zh": "叶哈希", "en": "Leaf hash"},
        "log.data": {"zh": "内容", "en": "Data"},
        "log.lookup": {"zh": "核验一条记录", "en": "Check an entry"},
        "log.lookup.label": {
            "zh": "输入序号或叶哈希（64 位十六进制）",
            "en": "Leaf index or leaf hash (64 hex digits)",
        },
        "log.lookup.submit": {"zh": "核验", "en": "Verify"},
        "log.lookup.bad": {
            "zh": "请输入非负整数序号或 64 位十六进制叶哈希。",
            "en": "Enter a non-negative index or a 64-digit hexadecimal leaf hash.",
        },
        "log.lookup.missing": {
            "zh": "最新检查点中没有这条记录。",
            "en": "No such entry under the latest checkpoint.",
        },
        "log.lookup.stored": {"zh": "存储的叶哈希", "en": "Stored leaf hash"},
        "log.lookup.computed": {
            "zh": "由内容计算的叶哈希",
            "en": "Leaf hash computed from the data",
        },
        "log.proof": {"zh": "包含证明（自叶至根）", "en": "Inclusion proof (leaf to root)"},
        "log.proof.ok": {
            "zh": "✓ 已验证：该记录包含在大小为 {size} 的签名树中。",
            "en": "✓ Verified: this entry is in the signed tree of size {size}.",
        },
        "log.proof.bad": {
            "zh": "✗ 验证失败：该记录与签名检查点不符。",
            "en": "✗ Not verified: this entry does not match the signed checkpoint.",
        },
        "log.api": {"zh": "接口与第三方核验", "en": "API and third-party checks"},
        "log.api.desc": {
            "zh": "保存检查点，稍后用 govtrust log verify 检查一致性证明，即可发现分叉或回滚。",
            "en": "Save a checkpoint, later run govtrust log verify with a consistency proof: "
            "forks and rollbacks show up.",
        },
    }
)
