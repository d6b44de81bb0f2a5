"""QR codes of ``HC1:`` text: alphanumeric mode, error correction Q (hcert spec 4.2)."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import segno

from vaxtrust.errors import InvalidCertificate


@lru_cache(maxsize=32)
def make_qr(text: str) -> segno.QRCode:
    """The QR of ``text`` in alphanumeric mode with error correction Q (never boosted).

    Encoding (mask selection, ~90 ms in pure Python) dominates; PNG, SVG and PDF of one
    certificate share it.
    """
    try:
        return segno.make_qr(text, mode="alphanumeric", error="q", boost_error=False)
    except (ValueError, segno.DataOverflowError) as error:
        raise InvalidCertificate(f"qr: cannot encode the text in alphanumeric mode ({error})") from None


def png(text: str, *, scale: int = 4, border: int = 4) -> bytes:
    """PNG bytes of the QR."""
    buffer = io.BytesIO()
    make_qr(text).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def svg(text: str, *, scale: int = 4, border: int = 4) -> str:
    """SVG text of the QR (scalable for print)."""
    buffer = io.BytesIO()
    make_qr(text).save(buffer, kind="svg", scale=scale, border=border, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def read_qr(image: bytes | Path) -> str:
    """The text of the one QR code in a PNG/JPEG image (zxing-cpp); raises if none is found."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        source = image if isinstance(image, Path) else io.BytesIO(image)
        with Image.open(source) as opened:
            opened.load()
            results = zxingcpp.read_barcodes(opened.convert("L"), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
        raise InvalidCertificate(f"qr: cannot read the image ({error})") from None
    texts = [result.text for result in results if result.valid]
    if not texts:
        raise InvalidCertificate("qr: no readable QR code in the image")
    if len(set(texts)) > 1:
        raise InvalidCertificate(f"qr: the image holds {len(texts)} different QR codes")
    return texts[0]
