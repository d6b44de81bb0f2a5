"""Attachments: the photo of the paper vaccination certificate, stored outside the database.

:func:`prepare` checks an upload by its content (never its name): size first, then Pillow must
read it as a JPEG, PNG or WebP image within a pixel limit. The image is then re-encoded, which
drops its metadata (EXIF: GPS position, camera, time). The result is stored under its SHA-256 by
an :class:`AttachmentStore`; :class:`FolderStore` (files of mode 0600 in a folder) is the default.
Whoever serves a file checks the complaint's scope first (``vaxtrust.app.complaints``).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from vaxtrust.errors import InputError, NotFound
from vaxtrust.files import private_dir

ALLOWED: Final = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MAX_PIXELS: Final = 40_000_000   # a 40-megapixel photo; larger is refused unopened
_SHA256 = re.compile("[0-9a-f]{64}")


@dataclass(frozen=True)
class Prepared:
    data: bytes
    content_type: str
    sha256: str


def prepare(data: bytes, *, max_bytes: int) -> Prepared:
    """The upload re-encoded without metadata, or InputError with a Vietnamese message."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > max_bytes:
        raise InputError(f"Tệp đính kèm quá lớn ({len(data) / 1e6:.1f} MB, tối đa "
                         f"{max_bytes / 1e6:.1f} MB) / the attachment is too large",
                         field="attachment")
    if not data:
        raise InputError("Tệp đính kèm trống / the attachment is empty", field="attachment")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in ALLOWED:
                raise UnidentifiedImageError(kind)
            if probe.width * probe.height > MAX_PIXELS:
                raise InputError("Ảnh quá lớn (quá nhiều điểm ảnh) / the image has too many "
                                 "pixels", field="attachment")
            probe.load()
            image = probe.convert("RGB") if kind == "JPEG" else probe.copy()
    except InputError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            SyntaxError):
        raise InputError("Tệp đính kèm không phải là ảnh (JPEG, PNG hoặc WebP) / the attachment "
                         "is not an image (JPEG, PNG or WebP)", field="attachment") from None
    out = io.BytesIO()
    # Saved without exif=, icc_profile= or pnginfo=: the metadata stays behind.
    image.save(out, format=kind, **({"quality": 90} if kind in ("JPEG", "WEBP") else {}))
    encoded = out.getvalue()
    return Prepared(encoded, ALLOWED[kind], hashlib.sha256(encoded).hexdigest())


class AttachmentStore(Protocol):
    def put(self, prepared: Prepared) -> None:
        """Keep the file under its SHA-256 (storing the same file twice keeps one)."""

    def get(self, sha256: str) -> bytes:
        """The file, or NotFound."""


class FolderStore:
    """Files named by their SHA-256 in ``root/ab/abcdef...``, readable by the owner only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        if not _SHA256.fullmatch(sha256):
            raise NotFound(f"no attachment {sha256[:80]!r}")
        return self.root / sha256[:2] / sha256

    def put(self, prepared: Prepared) -> None:
        path = self._path(prepared.sha256)
        if path.exists():
            return
        private_dir(path.parent)   # the root too, whatever the process's umask
        partial = path.with_suffix(f".{os.getpid()}.part")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(prepared.data)
        os.replace(partial, path)   # whole or not at all

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        if not path.is_file():
            raise NotFound(f"no attachment {sha256}")
        return path.read_bytes()
