"""The file format of aezoo's learned codecs (``model.compress`` / ``model.decompress``), version 1.

One image per file. Integers are big-endian; ``varint`` is unsigned LEB128 (7 bits a byte,
low first, high bit = more)::

    offset    size  field
    0         4     magic  b"AEZC"
    4         1     format version (1); a reader refuses versions above its own
    5         1     codec (low 4 bits: 1 factorized-codec, 2 hyperprior-codec) |
                    padding << 4 (0: replicate the last row and column)
    6         1     n, length of the preset id (0: a model never saved as a preset)
    7         n     preset id, UTF-8 (``model.preset_metadata["preset"]``)
    7+n       8     model digest: the first 8 bytes of the preset's manifest sha256 (the
                    sha256 of its metadata.json, which aezoo pins per preset), or for an
                    unsaved model of the sha256 of its weights
    15+n      2     height of the original image
    17+n      2     width of the original image
    19+n      4     hyperprior only: CRC-32 of the scale indexes the encoder coded y with
                    (as little-endian int32, in y's (row, column, channel) order)
    ...       var   payload length in bytes (varint)
    ...       4     CRC-32 of every byte before it and of the payload
    ...             payload: one range-coded stream (``aezoo.uses.entropy_coder``); the
                    hyperprior's holds z then y, each followed by its escaped values

Why so: every byte counts at 64x64 (one byte is 0.002 bits per pixel), so the digest is 8
bytes, not 32: it tells versions of a preset apart, while ``aezoo.load`` checks the whole
folder against its full pin. The image is padded at the bottom and right, by replicating
edge pixels (no false edges for the transform to spend bits on), to the model's
``size_multiple``; the decoder decodes the padded size and crops it back.

A reader refuses, in one line (``BitstreamError``, a ValueError), and decodes nothing: a
file of another format or of a newer version, a truncated or extended file, a checksum
mismatch (corruption), a file made by another model, and a hyperprior file whose scale
indexes (computed in fixed point, ``aezoo.models.fixed_point``, the same on every backend)
differ from the encoder's: decoding it would give garbage, so it is refused.
"""

import dataclasses
import hashlib
import zlib

import numpy as np

MAGIC = b"AEZC"
FORMAT_VERSION = 1
CODEC_KINDS = {1: "factorized-codec", 2: "hyperprior-codec"}
PADDINGS = {0: "replicate"}
DIGEST_BYTES = 8
MAX_SIDE = 65535


class BitstreamError(ValueError):
    """A file this aezoo cannot decode exactly; nothing was decoded."""


@dataclasses.dataclass(frozen=True)
class Header:
    codec: int
    padding: int
    preset: str
    digest: bytes
    height: int
    width: int
    index_checksum: int | None
    payload_length: int
    header_length: int


def model_identity(model):
    """``(preset id, 8-byte digest)`` of a model: a loaded preset's name and manifest sha256,
    else ``("", sha256 of its weights)``."""
    meta = getattr(model, "preset_metadata", None) or {}
    manifest = getattr(model, "preset_manifest_sha256", None)
    if meta.get("preset") and manifest:
        return str(meta["preset"]), bytes.fromhex(manifest)[:DIGEST_BYTES]
    from keras import ops

    digest = hashlib.sha256()
    for weight in model.weights:
        digest.update(np.ascontiguousarray(ops.convert_to_numpy(weight)).tobytes())
    return "", digest.digest()[:DIGEST_BYTES]


def describe(preset, digest):
    return f"preset {preset} ({digest.hex()})" if preset else f"an unsaved model (weights {digest.hex()})"


def pad(images, multiple):
    """Images ``(n, H, W, C)`` padded at the bottom and right to multiples of ``multiple``,
    replicating the last row and column."""
    n, height, width = images.shape[:3]
    extra = (-height % multiple, -width % multiple)
    if not any(extra):
        return images
    return np.pad(images, ((0, 0), (0, extra[0]), (0, extra[1]), (0, 0)), mode="edge")


def padded_size(height, width, multiple):
    return height + -height % multiple, width + -width % multiple


def pack(codec, preset, digest, height, width, payload, index_checksum=None, padding=0):
    """The bytes of one file."""
    name = preset.encode("utf-8")
    if len(name) > 255:
        raise BitstreamError(f"preset id {preset!r} is longer than 255 bytes")
    if not (0 < height <= MAX_SIDE and 0 < width <= MAX_SIDE):
        raise BitstreamError(f"image size {height}x{width} is outside 1..{MAX_SIDE} pixels a side")
    head = bytearray(MAGIC)
    head += bytes([FORMAT_VERSION, codec | padding << 4, len(name)]) + name + digest[:DIGEST_BYTES]
    head += height.to_bytes(2, "big") + width.to_bytes(2, "big")
    if codec == 2:
        head += int(index_checksum).to_bytes(4, "big")
    head += _varint(len(payload))
    crc = zlib.crc32(payload, zlib.crc32(bytes(head)))
    return bytes(head) + crc.to_bytes(4, "big") + bytes(payload)


def read_header(data):
    """Parse and check a file's header: magic, version, lengths, checksum. Returns a ``Header``."""
    data = bytes(data)
    if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
        raise BitstreamError("not an aezoo codec file (its first bytes are not b'AEZC')")
    if len(data) < 5:
        raise BitstreamError("truncated aezoo codec file: it ends inside the header")
    version = data[4]
    if version > FORMAT_VERSION:
        raise BitstreamError(f"aezoo codec file format version {version} is newer than this aezoo reads "
                             f"({FORMAT_VERSION}): upgrade aezoo")
    if version < 1:
        raise BitstreamError(f"aezoo codec file has an invalid format version {version} (corrupted header)")
    try:
        at = 5
        flags, n = data[at], data[at + 1]
        at += 2
        preset = data[at:at + n].decode("utf-8")
        at += n
        digest = data[at:at + DIGEST_BYTES]
        height, width = int.from_bytes(data[at + 8:at + 10], "big"), int.from_bytes(data[at + 10:at + 12], "big")
        at += DIGEST_BYTES + 4
        codec, padding = flags & 15, flags >> 4
        index_checksum = None
        if codec == 2:
            index_checksum = int.from_bytes(data[at:at + 4], "big")
            at += 4
        payload_length, at = _read_varint(data, at)
        crc = int.from_bytes(data[at:at + 4], "big")
        at += 4
    except (IndexError, UnicodeDecodeError):
        raise BitstreamError("truncated or corrupted aezoo codec file: its header does not parse") from None
    if at > len(data):
        raise BitstreamError("truncated aezoo codec file: it ends inside the header")
    if len(data) < at + payload_length:
        raise BitstreamError(f"truncated aezoo codec file: {len(data)} bytes, its header says {at + payload_length}")
    if len(data) > at + payload_length:
        raise BitstreamError(f"aezoo codec file has {len(data) - at - payload_length} bytes after its end "
                             "(corrupted, or two files joined)")
    if zlib.crc32(data[at:], zlib.crc32(data[:at - 4])) != crc:
        raise BitstreamError("corrupted aezoo codec file: its CRC-32 does not match its content")
    if codec not in CODEC_KINDS or padding not in PADDINGS or not height or not width:
        raise BitstreamError(f"aezoo codec file header is inconsistent (codec {codec}, padding {padding}, size "
                             f"{height}x{width}): written by another aezoo, or corrupted")
    return Header(codec, padding, preset, digest, height, width, index_checksum, payload_length, at)


def payload(data, header):
    return bytes(data)[header.header_length:]


def check_model(header, model):
    """Refuse a file that another model (preset, version or codec) wrote."""
    preset, digest = model_identity(model)
    if (header.preset, header.digest) != (preset, digest):
        raise BitstreamError(f"this file was made by {describe(header.preset, header.digest)}, not by "
                             f"{describe(preset, digest)}: decode it with that model")
    if CODEC_KINDS[header.codec] != model.architecture:
        raise BitstreamError(f"this file is a {CODEC_KINDS[header.codec]} file; {model.architecture} cannot decode it")


def index_checksum(indexes):
    """CRC-32 of scale indexes (little-endian int32, C order)."""
    return zlib.crc32(np.ascontiguousarray(np.asarray(indexes, "<i4")).tobytes())


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at
        if shift > 35:
            raise BitstreamError("corrupted aezoo codec file: its payload length does not parse")
