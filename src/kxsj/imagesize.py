"""Width and height of a PNG, JPEG, GIF or WebP image, read from its first bytes.

Pages give every local raster image its ``width`` and ``height`` so the text
does not jump as images arrive.  Only the header is read (JPEG: the markers up
to the first frame header), never the pixels; anything that is not one of the
four formats, or is cut short, gives ``None``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO, Optional

RASTER_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
MAX_JPEG_SCAN = 1 << 20
"""How far into a JPEG the frame header is looked for (EXIF thumbnails come first)."""

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
"""JPEG start-of-frame markers (0xC4 DHT, 0xC8 JPG and 0xCC DAC are not frames)."""


def image_size(path: Path) -> Optional[tuple[int, int]]:
    """``(width, height)`` in pixels of the image at ``path``, or None when unknown."""
    try:
        with open(path, "rb") as f:
            size = read_size(f)
    except OSError:
        return None
    return size if size and size[0] > 0 and size[1] > 0 else None


def read_size(f: BinaryIO) -> Optional[tuple[int, int]]:
    """``(width, height)`` from an open binary file positioned at its start."""
    head = f.read(32)
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) >= 30:
        return _webp(head, f)
    if head[:2] == b"\xff\xd8":
        f.seek(2)
        return _jpeg(f)
    return None


def _webp(head: bytes, f: BinaryIO) -> Optional[tuple[int, int]]:
    chunk = head[12:16]
    if chunk == b"VP8X":  # extended: 24-bit width-1 and height-1
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":  # lossy: key frame start code
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:  # lossless: 14-bit width-1 and height-1
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg(f: BinaryIO) -> Optional[tuple[int, int]]:
    while f.tell() < MAX_JPEG_SCAN:
        byte = f.read(1)
        if not byte:
            return None
        if byte != b"\xff":
            continue
        marker = f.read(1)
        while marker == b"\xff":  # fill bytes
            marker = f.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in (0x01, 0xD8) or 0xD0 <= code <= 0xD7:  # no length follows
            continue
        if code == 0xD9:  # end of image before any frame
            return None
        length_bytes = f.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if code in _SOF:
            data = f.read(5)
            if len(data) < 5:
                return None
            h, w = struct.unpack(">HH", data[1:5])
            return w, h
        if length < 2:
            return None
        f.seek(length - 2, 1)
    return None
