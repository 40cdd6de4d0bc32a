"""Simplified Chinese first, English on request (``?lang=en``, remembered in a cookie)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import urlencode

from flask import request

__all__ = ["LANGUAGES", "register", "translate", "current_language", "switch_language_url"]

LANGUAGES: Final = ("zh", "en")
_MESSAGES: dict[str, dict[str, str]] = {}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add ``{key: {"zh": ..., "en": ...}}``; every key needs both languages."""
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if lang not in texts]
        if missing:
            raise ValueError(f"message {key!r} lacks {missing}")
        _MESSAGES[key] = dict(texts)


def current_language() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in LANGUAGES else "zh"


def switch_language_url() -> str:
    """The current page in the other language: a relative ``?…`` link that keeps every
    other query parameter (the hub's login page needs its ``req``, logout its hints)."""
    other = "en" if current_language() == "zh" else "zh"
    params = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return "?" + urlencode([*params, ("lang", other)])


def translate(key: str, **params: object) -> str:
    texts = _MESSAGES.get(key)
    if texts is None:
        return key
    text = texts[current_language()]
    return text.format(**params) if params else text


register(
    {
        "site.title": {
            "zh": "国家政务服务平台 · 信任服务",
            "en": "National Government Service Platform · Trust Services",
        },
        "site.tagline": {
            "zh": "一次登录、全网通办；电子印章与电子证照全国互认，离线也能核验。",
            "en": "Log in once, recognised everywhere; e-seals and e-licenses accepted nationwide, verifiable offline.",
        },
        "nav.home": {"zh": "首页", "en": "Home"},
        "lang.switch": {"zh": "English", "en": "中文"},
        "landing.parts": {"zh": "服务组成", "en": "What the hub offers"},
        "part.sso": {"zh": "统一身份认证（单点登录）", "en": "National single sign-on"},
        "part.sso.desc": {
            "zh": "公民和法人一次登录，各地区政务服务平台均可识别；统一退出。",
            "en": "Citizens and legal persons log in once and are recognised by every regional platform; log out once.",
        },
        "part.seal": {"zh": "电子印章服务", "en": "Electronic seal service"},
        "part.seal.desc": {
            "zh": "按 GB/T 38540 以 SM2 加盖 OFD 电子印章，或以 RSA/ECDSA 签署 PDF；任何人可验证。",
            "en": "SM2 seals on OFD per GB/T 38540, or RSA/ECDSA PAdES seals on PDF; anyone can verify.",
        },
        "part.wallet": {"zh": "电子证照夹", "en": "E-license wallet"},
        "part.wallet.desc": {
            "zh": "持证人出示电子证照二维码，选择性披露，防截图重放。",
            "en": "Holders show e-license QR codes with selective disclosure and holder binding.",
        },
        "part.verifier": {"zh": "窗口核验", "en": "Counter verifier"},
        "part.verifier.desc": {
            "zh": "扫码或上传文件，一秒内给出结论，断网亦可。",
            "en": "Scan or upload and get a verdict within a second, even offline.",
        },
        "part.trust": {"zh": "信任框架", "en": "Trust framework"},
        "part.trust.desc": {
            "zh": "参与方名录、签名信任列表、透明日志与公钥（JWKS）。",
            "en": "Participant registry, signed trust list, transparency log and published keys (JWKS).",
        },
        "status.available": {"zh": "已开放", "en": "available"},
        "status.coming": {"zh": "建设中", "en": "under construction"},
        "algorithms.title": {"zh": "算法标识一览", "en": "Algorithm identifiers"},
        "error.title": {"zh": "出错了", "en": "Something went wrong"},
    }
)
