"""Synthetic camera photos of a QR code, for the image-decoding tests and the
photo benchmark: the symbol printed or shown on a screen, on a textured desk,
turned, tilted in perspective, out of focus, shot at low resolution and saved
as a lossy JPEG — what a counter webcam or a citizen's phone produces.

Deterministic for a given ``seed``.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter

from license_wallet.qr import render_qr

__all__ = ["photo"]


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (8 × 8 here)."""
    n = len(b)
    m = [row[:] + [rhs] for row, rhs in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                m[r] = [x - f * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def _perspective_coeffs(
    src: list[tuple[float, float]], dst: list[tuple[float, float]]
) -> list[float]:
    """The 8 coefficients PIL's PERSPECTIVE transform wants (output → input)."""
    rows: list[list[float]] = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
    return _solve(rows, [c for pt in src for c in pt])


def photo(
    text: str,
    *,
    side: int = 1000,
    fill: float = 0.6,
    angle: float = 0.0,
    tilt: float = 0.0,
    blur: float = 0.0,
    noise: int = 0,
    jpeg_quality: int | None = 80,
    dark_screen: bool = False,
    seed: int = 1,
) -> bytes:
    """A ``side``-pixel photo in which the QR symbol of ``text`` spans ``fill``
    of the shorter side, turned by ``angle`` degrees, with ``tilt`` (0–0.3) of
    perspective, Gaussian ``blur`` (pixels), sensor ``noise`` (0–64 grey levels)
    and JPEG compression (``None``: PNG)."""
    rng = random.Random(seed)
    symbol = Image.open(io.BytesIO(render_qr(text, scale=8).png)).convert("L")
    if dark_screen:  # a phone screen: light modules on a dark, slightly blue-grey face
        symbol = symbol.point(lambda p: 235 if p > 128 else 25)
    width, height = side, int(side * 0.75)
    desk = Image.new("L", (width, height), 150)
    draw = ImageDraw.Draw(desk)
    for _ in range(60):  # a textured desk, papers at its edges
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(10, 120)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=rng.randrange(110, 200))
    target = int(min(width, height) * fill)
    symbol = symbol.resize((target, target), Image.Resampling.BILINEAR)
    if angle:
        symbol = symbol.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    sx, sy = symbol.size
    if tilt:
        d = tilt * sx
        src = [(0.0, 0.0), (sx, 0.0), (sx, sy), (0.0, sy)]
        dst = [(d, d * 0.5), (sx - d * 0.3, 0.0), (sx, sy), (0.0, sy - d * 0.4)]
        symbol = symbol.transform(
            (sx, sy),
            Image.Transform.PERSPECTIVE,
            _perspective_coeffs(src, dst),
            resample=Image.Resampling.BICUBIC,
            fillcolor=255,
        )
    desk.paste(symbol, ((width - sx) // 2, (height - sy) // 2))
    if blur:
        desk = desk.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        grain = Image.effect_noise((width, height), noise)
        desk = Image.blend(desk, grain, 0.15)
    out = io.BytesIO()
    rgb = Image.merge("RGB", (desk, desk, desk.point(lambda p: min(255, p + 6))))
    if jpeg_quality is None:
        rgb.save(out, format="PNG")
    else:
        rgb.save(out, format="JPEG", quality=jpeg_quality)
    return out.getvalue()
