"""Standard image formats as rate-distortion baselines, every byte of the file counted.

``encode(image, fmt, quality)`` writes a whole file with Pillow: JPEG (``optimize=True``:
Huffman tables fitted to the image), WebP (lossy VP8) or AVIF (AV1 in HEIF). A file's
*fixed overhead* is what is not the entropy-coded image: JPEG's markers and tables (all
but its scan data), WebP's RIFF and chunk headers, AVIF's boxes (all but ``mdat``'s
content), an aezoo codec file's header. At 64x64 it weighs heavily: a rate counts it, and
``payload_bytes`` lets a reader see how much of a difference it makes.
"""

import io

import numpy as np

FORMATS = ("jpeg", "webp", "avif")


def encode(image, fmt, quality):
    """The bytes of one file of ``image`` (H, W, 3 floats in [0, 1]) at Pillow ``quality``."""
    from PIL import Image

    pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    options = {"jpeg": {"format": "JPEG", "optimize": True}, "webp": {"format": "WEBP"},
               "avif": {"format": "AVIF"}}[fmt]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, quality=int(quality), **options)
    return buffer.getvalue()


def decode(data):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), np.float32) / 255.0


def payload_bytes(data, fmt):
    """Bytes of the entropy-coded image inside a file (its size minus the fixed overhead)."""
    data = bytes(data)
    if fmt == "jpeg":
        return _jpeg_scan_bytes(data)
    if fmt == "webp":
        if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
            raise ValueError("not a WebP file")
        return len(data) - 20 if data[12:16] in (b"VP8 ", b"VP8L") else _webp_chunk(data, b"VP8 ")
    if fmt == "avif":
        return _box_size(data, b"mdat")
    if fmt == "aezoo":
        from aezoo.uses import bitstream

        return bitstream.read_header(data).payload_length
    raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}, aezoo")


def _jpeg_scan_bytes(data):
    """Entropy-coded bytes of every scan: from the end of each SOS segment to the next marker
    that is not a restart marker or a stuffed 0xFF00."""
    total, at = 0, 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            raise ValueError("not a JPEG file (marker expected)")
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        at += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            start = at
            while at + 1 < len(data) and not (data[at] == 0xFF and data[at + 1] not in (0x00, *range(0xD0, 0xD8))):
                at += 1
            total += at - start
            if data[at + 1] == 0xD9:
                break
    return total


def _webp_chunk(data, tag):
    at = 12
    while at + 8 <= len(data):
        size = int.from_bytes(data[at + 4:at + 8], "little")
        if data[at:at + 4] == tag:
            return size
        at += 8 + size + size % 2
    raise ValueError(f"WebP file has no {tag!r} chunk")


def _box_size(data, tag):
    """Content bytes of the top-level ISO-BMFF box ``tag``."""
    at = 0
    while at + 8 <= len(data):
        size, kind = int.from_bytes(data[at:at + 4], "big"), data[at + 4:at + 8]
        header = 8
        if size == 1:
            size, header = int.from_bytes(data[at + 8:at + 16], "big"), 16
        elif size == 0:
            size = len(data) - at
        if kind == tag:
            return size - header
        at += size
    raise ValueError(f"file has no {tag!r} box")


def psnr(x, y):
    """PSNR in dB of images in [0, 1] (RGB, one number per image)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    mse = np.mean((x - y) ** 2, axis=tuple(range(x.ndim - 3, x.ndim)))
    return -10.0 * np.log10(np.maximum(mse, 1e-12))


def curve(images, fmt, qualities):
    """Per quality: mean bits per pixel of the whole file, of its payload alone, and mean PSNR."""
    points = []
    for quality in qualities:
        files = [encode(image, fmt, quality) for image in images]
        pixels = images.shape[1] * images.shape[2]
        points.append({"quality": int(quality),
                       "bpp": float(np.mean([8 * len(f) for f in files]) / pixels),
                       "payload_bpp": float(np.mean([8 * payload_bytes(f, fmt) for f in files]) / pixels),
                       "overhead_bytes": float(np.mean([len(f) - payload_bytes(f, fmt) for f in files])),
                       "psnr": float(np.mean([psnr(image, decode(f)) for image, f in zip(images, files)]))})
    return points
