"""Pixels of a screenshot, for tests that must see what a reader sees (a cue
drawn by a gradient has no DOM to query).  Reads the PNGs Chromium writes:
8-bit RGB or RGBA, not interlaced."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> None:
    for x in range(len(line)):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]
        c = prev[x - bpp] if x >= bpp else 0
        if kind == 1:
            line[x] = (line[x] + a) & 255
        elif kind == 2:
            line[x] = (line[x] + b) & 255
        elif kind == 3:
            line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            line[x] = (line[x] + _paeth(a, b, c)) & 255


def grey_rows(png: bytes) -> list[list[float]]:
    """The image as rows of luminance, 0 (black) to 255 (white)."""
    assert png[:8] == SIGNATURE, "not a PNG"
    pos, data, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            data += body
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(data), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, prev, bpp)
        rows.append([0.2126 * line[x] + 0.7152 * line[x + 1] + 0.0722 * line[x + 2] for x in range(0, stride, bpp)])
        prev = line
    return rows


def mean_difference(png: bytes, reference: bytes) -> float:
    """How far ``png``'s luminance is from ``reference``'s (same size), on average."""
    a, b = grey_rows(png), grey_rows(reference)
    assert len(a) == len(b) and len(a[0]) == len(b[0])
    cells = [abs(rb - ra) for row_a, row_b in zip(a, b) for ra, rb in zip(row_a, row_b)]
    return sum(cells) / len(cells)
