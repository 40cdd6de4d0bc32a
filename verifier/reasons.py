"""Reason codes of every verdict the verifier gives (documents and e-license QRs)
in Chinese and English, for the CLI and the counter page."""

from __future__ import annotations

from typing import Final

__all__ = ["REASON_TEXT", "reason_text"]

#: Reason code → (Chinese, English).
REASON_TEXT: Final[dict[str, tuple[str, str]]] = {
    "format_failure": ("格式错误", "structure cannot be decoded"),
    "hash_failure": ("文件内容与签名不符（摘要不一致）", "document digest does not match"),
    "sig_crypto_failure": ("签名值验证失败", "signature does not verify"),
    "sig_constraints_failure": ("签名者证书不属于该印章", "signer certificate is not the seal's"),
    "expired": ("已过有效期", "past its validity period"),
    "not_yet_valid": ("尚未生效", "not yet valid"),
    "no_certificate_chain_found": (
        "无法连接到可信根证书",
        "no certificate chain to a trust anchor",
    ),
    "chain_constraints_failure": ("证书链不满足约束", "certificate path fails a CA constraint"),
    "certificate_chain_general_failure": (
        "证书链验证失败",
        "certificate chain cannot be validated",
    ),
    "crypto_constraints_failure": ("不支持的算法", "algorithm not supported"),
    "no_signing_certificate_found": ("缺少签名者证书", "no signer certificate available"),
    "signed_data_not_found": ("缺少被签署的数据", "the signed data is not available"),
    "no_poe": ("缺少签名时间", "no signing time to judge validity at"),
    "no_signature_found": ("未发现签名或签章", "no signature found"),
    "malformed": ("输入无法解析", "input cannot be parsed"),
    "unsupported_input": ("不支持的输入类型", "unsupported input"),
    "ofd_too_large": ("OFD 文件过大", "OFD package too large"),
    "ofd_path_traversal": ("OFD 包含不安全的路径", "OFD has unsafe entry names"),
    "ofd_duplicate_entry": ("OFD 包含重复条目", "OFD has duplicate entries"),
    "ofd_xml_forbidden": ("OFD 包含被禁止的 XML 结构", "OFD has forbidden XML constructs"),
    "pdf_too_large": ("PDF 文件过大", "PDF too large"),
    "pdf_malformed": ("PDF 文件无法解析", "PDF cannot be parsed"),
    "pdf_encrypted": ("PDF 已加密，无法验证", "PDF is encrypted"),
    "io_error": ("无法读取输入", "input cannot be read"),
    # e-license QR presentations (verifier.licenses)
    "unsupported_version": ("不支持的二维码版本", "unsupported QR format version"),
    "bad_signature": ("发证机关签名无效", "the issuer's signature does not verify"),
    "untrusted_issuer": ("签发者不受信任", "the issuer is not trusted"),
    "issuer_inactive": ("发证机关已停用", "the issuer is not active"),
    "issuer_not_authorized_for_type": (
        "发证机关无权颁发此类证照",
        "the issuer may not issue this license type",
    ),
    "revoked": ("证照已吊销", "the license is revoked"),
    "suspended": ("证照已暂停", "the license is suspended"),
    "status_unknown": ("无法确认证照状态", "the license status is unknown"),
    "holder_binding_missing": ("缺少持证人设备签名", "no holder device signature"),
    "holder_binding_invalid": ("持证人设备签名无效", "the holder device signature is invalid"),
    "disclosure_not_signed": ("出示的信息未经发证机关签名", "a shown field is not signed"),
    "presentation_expired": (
        "二维码已过期，请持证人刷新",
        "the QR has expired; ask for a fresh one",
    ),
    "nonce_mismatch": ("二维码不是为本窗口生成的", "the QR was not made for this counter"),
    "audience_mismatch": ("二维码不是为本窗口生成的", "the QR was not made for this verifier"),
    "replayed": ("二维码已被使用过", "this QR was already shown"),
    "stale_trust_data": ("信任数据过旧", "the trust data is too old"),
    "unreadable_image": ("图片中无法识别二维码", "no readable QR code in the image"),
    "invalid": ("证照无效", "the license is not valid"),
    # ID tokens (verifier.id_tokens)
    "wrong_token_type": ("不是身份令牌", "not an ID token"),
}


def reason_text(code: str, lang: str = "zh") -> str:
    """The reason in ``lang`` ("zh" or "en"); an unknown code is shown as itself."""
    zh, en = REASON_TEXT.get(code, (code, code))
    return en if lang == "en" else zh
