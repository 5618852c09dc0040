"""Folders in, folders out: what ``aezoo compress`` and ``aezoo decompress`` do.

``compress_folder``: every image under a folder (at its own size) -> ``<name>.aezc`` files
of one codec preset. ``decompress_folder``: a folder of ``.aezc`` files -> ``<name>.png``,
each decoded by the preset its header names. Every file is read and checked before
anything is written; the output folder is built aside and swapped in whole
(``aezoo.io.staged_dir``), and an existing one is replaced only if aezoo wrote it
(codec files only, or PNGs that carry aezoo's ``Software`` tag), is empty, or ``force``.
"""

from pathlib import Path

import numpy as np

from aezoo.uses import bitstream

SUFFIX = ".aezc"
#: the PNG text chunk that marks an image ``decompress_folder`` wrote
SOFTWARE = "aezoo decompress"


def _is_codec_folder(folder):
    entries = list(Path(folder).iterdir())
    return bool(entries) and all(p.is_file() and p.suffix == SUFFIX and p.read_bytes()[:4] == bitstream.MAGIC
                                 for p in entries)


def _is_decoded_folder(folder):
    from PIL import Image

    def ours(path):
        try:
            with Image.open(path) as image:
                return image.info.get("Software") == SOFTWARE
        except OSError:
            return False

    entries = list(Path(folder).iterdir())
    return bool(entries) and all(p.is_file() and p.suffix == ".png" and ours(p) for p in entries)


def _unique_names(paths, suffix):
    names = {}
    for path in paths:
        name = Path(path).stem + suffix
        if name in names:
            raise ValueError(f"{names[name]} and {path} would both be written as {name}; rename one")
        names[name] = path
    return names


def _read_image(path, channels):
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("L" if channels == 1 else "RGB")
        array = np.asarray(image, np.float32) / 255.0
    return array[..., None] if array.ndim == 2 else array


def compress_folder(preset, source, output, force=False):
    """Compress every image under ``source`` with codec ``preset``; returns [(name, bytes)]."""
    import aezoo
    from aezoo.data.folders import image_files
    from aezoo.io import staged_dir

    model = aezoo.load(preset, compile=False)
    if not getattr(model, "is_codec", False):
        raise ValueError(f"{preset} is a {model.architecture}, not a codec: compress needs a codec preset "
                         "(aezoo list '*codec*')")
    names = _unique_names(image_files(source), SUFFIX)
    files = {name: model.compress(_read_image(path, model.data_shape[-1]))[0] for name, path in names.items()}
    with staged_dir(output, owned=_is_codec_folder, force=force, protect=(source,), what="aezoo codec folder") as tmp:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
    return sorted(files.items())


def decompress_folder(source, output, preset=None, force=False):
    """Decode every ``.aezc`` file in ``source`` (or the one file ``source``) to PNGs in
    ``output``; ``preset`` loads the model from there instead of the name in the headers
    (a preset folder that is not in aezoo's catalog). Returns [(name, (height, width))]."""
    import aezoo
    from PIL import Image, PngImagePlugin

    from aezoo.io import staged_dir
    from aezoo.presets import PRESETS

    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"no such file or folder: {source}")
    paths = [source] if source.is_file() else sorted(p for p in source.iterdir() if p.suffix == SUFFIX)
    if not paths:
        raise FileNotFoundError(f"no {SUFFIX} files in {source}")
    data = {path: path.read_bytes() for path in paths}
    headers = {}
    for path, content in data.items():
        try:
            headers[path] = bitstream.read_header(content)
        except bitstream.BitstreamError as err:
            raise bitstream.BitstreamError(f"{path.name}: {err}") from None
    models = {}
    for path, header in headers.items():
        key = preset or header.preset
        if not key:
            raise ValueError(f"{path.name} was made by a model never saved as a preset: decode it in Python with "
                             "that model's decompress, or pass --preset FOLDER")
        if not preset and key not in PRESETS:
            raise ValueError(f"{path.name} was made by preset {key!r}, which is not in aezoo's catalog: pass "
                             "--preset with its folder")
        if key not in models:
            models[key] = aezoo.load(key, compile=False)
    images = {}
    for name, path in _unique_names(paths, ".png").items():
        try:
            images[name] = models[preset or headers[path].preset].decompress(data[path])
        except bitstream.BitstreamError as err:
            raise bitstream.BitstreamError(f"{path.name}: {err}") from None
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SOFTWARE)
    with staged_dir(output, owned=_is_decoded_folder, force=force, protect=(source,),
                    what="aezoo decompress folder") as tmp:
        for name, image in images.items():
            pixels = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
            Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(tmp / name, pnginfo=info)
    return sorted((name, image.shape[:2]) for name, image in images.items())
