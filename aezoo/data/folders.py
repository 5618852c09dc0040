"""A folder of the user's own images: list, decode, resize; as arrays or ``tf.data``."""

from pathlib import Path

import numpy as np

from aezoo.data.catalog import IMAGE_EXTENSIONS

# --------------------------------------------------------------------------
# Public: a folder of the user's own images
# --------------------------------------------------------------------------
def _size_pair(image_size):
    pair = (image_size, image_size) if isinstance(image_size, (int, np.integer)) else tuple(image_size)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v > 0 for v in pair):
        raise ValueError(f"image_size must be a positive int or (height, width), got {image_size!r}")
    return tuple(int(v) for v in pair)


def image_files(path):
    """Sorted image files (jpg/jpeg/png, any depth) under ``path``; clear errors when none."""
    folder = Path(path).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"image folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{str(folder)!r} is a file; from_directory needs a folder of images")
    files, others = [], set()
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        if p.suffix.lower() in IMAGE_EXTENSIONS:
            files.append(str(p))
        else:
            others.add(p.suffix.lower() or "(no extension)")
    if not files:
        found = f" It holds only: {', '.join(sorted(others))}." if others else " It is empty."
        raise FileNotFoundError(
            f"no images in {str(folder)!r} (searched recursively for {', '.join(IMAGE_EXTENSIONS)}).{found}"
        )
    return files


def from_directory(path, image_size, channels=3, batch_size=128, shuffle=True, seed=0):
    """A ``tf.data.Dataset`` of float32 batches from a folder of images (recursive).

    Each image is decoded to ``channels`` (1 gray, 3 RGB), resized to ``image_size``
    (int or ``(height, width)``; bilinear with antialiasing, no crop) and scaled to [0, 1].
    """
    import tensorflow as tf

    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    size = _size_pair(image_size)
    files = image_files(path)

    def read(file):
        img = tf.io.decode_image(tf.io.read_file(file), channels=channels, expand_animations=False)
        img = tf.image.resize(tf.cast(img, tf.float32) / 255.0, size, antialias=True)
        img = tf.clip_by_value(img, 0.0, 1.0)
        img.set_shape(size + (channels,))
        return img

    ds = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(read, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def load_directory_arrays(path, image_size, channels=3):
    """All images of a folder as one float32 NHWC array in [0, 1], in sorted file order
    (decoded exactly as ``from_directory`` does)."""
    from aezoo.progress import Progress

    batches = []
    with Progress(len(image_files(path)), f"reading {path}", unit="images") as bar:
        for batch in from_directory(path, image_size, channels, batch_size=256, shuffle=False):
            batches.append(batch.numpy())
            bar.update(len(batches[-1]))
    return np.concatenate(batches)
