"""``tf.data`` pipelines over named datasets or arrays (TensorFlow is imported here only):
shuffling, dynamic binarisation, validation splits, resizing."""


import numpy as np

from aezoo.data.arrays import _check_split, _image_size, _load_raw, _validation_mask
from aezoo.data.catalog import get_info
from aezoo.data.folders import _size_pair
from aezoo.data.search import _Search

# ---- full CelebA through tensorflow_datasets (streamed, not held in memory)
def _celeb_a_tfds(split, size):
    """tf.data of uint8 (size, size, 3) CelebA faces: central 140x140 crop, lanczos3 resize."""
    import tensorflow as tf

    search = _Search("celeb_a")

    def load():
        import tensorflow_datasets as tfds

        return tfds.load("celeb_a", split=split, shuffle_files=False)

    ds = search.download(f"tensorflow_datasets.load('celeb_a', split={split!r}) "
                         "(data_dir $TFDS_DATA_DIR or ~/tensorflow_datasets)", load)
    if ds is None:
        raise search.error(
            "connect to the internet and run tensorflow_datasets.load('celeb_a') once (its Google Drive "
            "source is sometimes over quota: then follow the TFDS celeb_a page for a manual download), or "
            "use 'faces' (a 10k CelebA subset read from local files)."
        )

    def prepare(example):
        face = tf.image.crop_to_bounding_box(example["image"], 38, 18, 140, 140)
        face = tf.image.resize(face, (size, size), method="lanczos3", antialias=True)
        return tf.cast(tf.clip_by_value(tf.round(face), 0, 255), tf.uint8)

    return ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)



# --------------------------------------------------------------------------
# Public: tf.data pipelines
# --------------------------------------------------------------------------
def _normalise_array(x, real=False):
    """User arrays -> (array, divisor): uint8 keeps its bytes (/255 later), floats must be in [0, 1];
    ``real=True`` (series): float values of any range, shape kept."""
    x = np.asarray(x)
    if real:
        if x.ndim < 2 or x.dtype.kind != "f":
            raise ValueError(f"series must be a float array of examples (batch, timesteps, channels), got "
                             f"shape {x.shape}, dtype {x.dtype}")
        x = x.astype(np.float32, copy=False)
        if not np.all(np.isfinite(x)):
            raise ValueError("data contains NaN or infinite values")
        return x, None
    if x.ndim < 2:
        raise ValueError(f"data must be an array of examples (batch, ...), got shape {x.shape}")
    if x.ndim == 3:
        x = x[..., None]  # (n, h, w) grayscale images -> NHWC
    if x.dtype == np.uint8:
        return x, 255.0
    if x.dtype == bool:
        return x.astype(np.float32), None
    if x.dtype.kind != "f":
        raise ValueError(f"data must be uint8 (0-255) or float in [0, 1], got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("data contains NaN or infinite values")
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(
            f"float data must lie in [0, 1], got range [{x.min():.3g}, {x.max():.3g}] "
            "(images in 0-255? divide by 255.0, or pass them as uint8)"
        )
    return x, None


def _batches(ds, n, scale, batch_size, shuffle, seed, binarize, repeat, resize_to=None, labelled=False, shift=0,
             flip=False):
    """Shuffle -> repeat -> batch -> to float [0, 1] -> (resize) -> (shift, flip) -> (dynamic binarise) -> prefetch.

    ``labelled``: elements are ``(x, one_hot)``; batches come out as ``((x, one_hot),)``,
    the two inputs of a conditional model and no target.
    """
    import tensorflow as tf

    if shuffle:
        ds = ds.shuffle(max(1, min(n, 60_000)), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size)

    def to_unit(b):
        b = tf.cast(b, tf.float32)
        if scale is not None:
            b = b / scale
        if resize_to is not None:
            b = tf.clip_by_value(tf.image.resize(b, resize_to, antialias=True), 0.0, 1.0)
        return b

    def on_images(fn):
        return (lambda b, y: (fn(b), y)) if labelled else fn

    ds = ds.map(on_images(to_unit), num_parallel_calls=tf.data.AUTOTUNE)
    if shift or flip:
        # fresh offsets and flips every batch and epoch (seeds as for binarisation, another stream)
        shift_seeds = tf.data.Dataset.random(seed=seed + 7919, rerandomize_each_iteration=True)

        def move(b, s):
            pair = tf.stack([s, tf.constant(seed, tf.int64)])
            b = tf_random_shift(b, shift, pair) if shift else b
            if flip:
                mirrored = tf.random.stateless_uniform((tf.shape(b)[0], 1, 1, 1), seed=pair + 1) < 0.5
                b = tf.where(mirrored, tf.reverse(b, axis=[2]), b)
            return b

        if labelled:
            ds = tf.data.Dataset.zip((ds, shift_seeds)).map(lambda by, s: (move(by[0], s), by[1]),
                                                            num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = tf.data.Dataset.zip((ds, shift_seeds)).map(move, num_parallel_calls=tf.data.AUTOTUNE)
    if binarize:
        # one fresh seed per batch; rerandomize_each_iteration gives new draws every epoch
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def draw(b, s):
            pair = tf.stack([s, tf.constant(seed, tf.int64)])
            return tf.cast(tf.random.stateless_uniform(tf.shape(b), seed=pair) < b, tf.float32)

        if labelled:
            ds = tf.data.Dataset.zip((ds, seeds)).map(lambda by, s: (draw(by[0], s), by[1]),
                                                      num_parallel_calls=tf.data.AUTOTUNE)
        else:
            ds = tf.data.Dataset.zip((ds, seeds)).map(draw, num_parallel_calls=tf.data.AUTOTUNE)
    if labelled:
        ds = ds.map(lambda b, y: ((b, y),))
    return ds.prefetch(tf.data.AUTOTUNE)


def tf_random_shift(images, shift, seed):
    """Each image of a batch moved by its own whole-pixel offset in [-shift, shift] on both
    axes, zeros coming in at the edges (``arrays.random_shift`` in TensorFlow)."""
    import tensorflow as tf

    size = tf.shape(images)
    offsets = tf.random.stateless_uniform((size[0], 2), seed=seed, minval=0, maxval=2 * shift + 1, dtype=tf.int32)
    padded = tf.pad(images, [[0, 0], [shift, shift], [shift, shift], [0, 0]])

    def crop(args):
        image, offset = args
        return tf.slice(image, [offset[0], offset[1], 0], [size[1], size[2], size[3]])

    return tf.map_fn(crop, (padded, offsets), fn_output_signature=images.dtype)


def one_hot(labels, num_classes):
    """Class indices -> float32 one-hot rows (the label input of conditional models)."""
    labels = np.asarray(labels).astype("int64").ravel()
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got range [{labels.min()}, {labels.max()}]")
    return np.eye(num_classes, dtype="float32")[labels]


def dataset(name_or_array, split="train", batch_size=128, shuffle=True, seed=0, binarize=False,
            repeat=False, image_size=None, validation_fraction=0.0, subset=None, labels=None, num_classes=None,
            real=False, shift=0, flip=False):
    """A ``tf.data.Dataset`` of float32 batches of ``x`` in [0, 1] (the target is the input).

    Args:
        name_or_array: a ``DATASETS`` name, or an array of examples (uint8 0-255 or
            float in [0, 1]; ``(n, h, w)`` gets a channel axis).
        split: ``"train"``, ``"validation"`` (carved from train with ``seed`` and
            ``validation_fraction``, 0.1 when left at 0) or ``"test"`` (official).
            Pass the same ``validation_fraction`` and ``seed`` for ``"train"`` to
            leave the validation examples out of it.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: reshuffle every epoch, seeded by ``seed``.
        seed: seeds the validation carve, the shuffle and the binarisation.
        binarize: dynamic binarisation, a fresh Bernoulli draw every epoch.
        repeat: repeat forever (then give ``steps_per_epoch`` to ``fit``).
        image_size: size for ``faces``/``utkface``/``celeb_a``; for arrays, resize to it.
        validation_fraction: fraction of train held out as the validation split.
        subset: keep only the first ``subset`` examples of the split (smoke runs).
        labels, num_classes: for an array, its class indices: batches are then
            ``((x, one_hot),)``, what a conditional model (``conditional-vae``) trains on.
        real: an array of real-valued examples of any range, fed as they are (series
            for ``lstm-ae``/``conv1d-ae``, which scale inside the model).
        shift: augment by moving each image up to this many whole pixels in each axis,
            zeros filling in (a fresh draw every batch and epoch).
        flip: augment by mirroring each image left to right with probability 1/2 (faces).

    Example:
        >>> train = dataset("mnist", validation_fraction=0.1, binarize=True)
        >>> model.fit(train, validation_data=dataset("mnist", split="validation",
        ...                                          validation_fraction=0.1, shuffle=False))
    """
    import tensorflow as tf

    _check_split(split)
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if subset is not None and (not isinstance(subset, (int, np.integer)) or subset <= 0):
        raise ValueError(f"subset must be a positive int or None, got {subset!r}")
    if split == "validation" and not validation_fraction:
        validation_fraction = 0.1

    resize_to = None
    if isinstance(name_or_array, str):
        info = get_info(name_or_array)
        size = _image_size(info, image_size)
        if info.name == "celeb_a":
            ds = _celeb_a_tfds(split, size)
            if subset:
                ds = ds.take(subset)
            n = subset or 10_000  # shuffle buffer: enough to mix, small enough for memory
            return _batches(ds, n, 255.0, batch_size, shuffle, seed, binarize, repeat, shift=shift, flip=flip)
        raw = _load_raw(info.name, size)
        x, scale = (raw.x_test if split == "test" else raw.x_train), raw.scale
    else:
        if split == "test":
            raise ValueError("an array has no official test split: pass your test array itself with split='train'")
        x, scale = _normalise_array(name_or_array, real)
        if image_size is not None:
            resize_to = _size_pair(image_size)
    if split != "test":
        mask = _validation_mask(len(x), validation_fraction, seed)
        x = x[mask] if split == "validation" else x[~mask]
    if subset:
        x = x[:subset]
    if len(x) == 0:
        raise ValueError(f"split {split!r} is empty (validation_fraction={validation_fraction}, subset={subset})")
    if labels is not None:
        if isinstance(name_or_array, str) or split != "train" or validation_fraction or subset:
            raise ValueError("labels= goes with an array passed as a whole (split='train', no validation or subset)")
        if len(labels) != len(x):
            raise ValueError(f"got {len(labels)} labels for {len(x)} examples")
        ds = tf.data.Dataset.from_tensor_slices((x, one_hot(labels, num_classes or int(np.max(labels)) + 1)))
        return _batches(ds, len(x), scale, batch_size, shuffle, seed, binarize, repeat, resize_to, labelled=True,
                        shift=shift, flip=flip)
    ds = tf.data.Dataset.from_tensor_slices(x)
    return _batches(ds, len(x), scale, batch_size, shuffle, seed, binarize, repeat, resize_to, shift=shift,
                    flip=flip)
