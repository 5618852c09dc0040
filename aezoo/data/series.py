"""Series helpers with numpy only: the ``.ts`` file format, padding, sliding windows.

Used by ``sequences`` (the named sequence datasets) and by anyone with their own series.
"""

from pathlib import Path

import numpy as np


def _is_true(value):
    return str(value).strip().lower() == "true"


def parse_ts(text):
    """Parse the text of a ``.ts`` file (sktime / aeon / UEA archive format).

    Header lines start with ``@`` (``@dimensions 6``, ``@classLabel true a b``,
    ``@equalLength false``...), comments with ``#``; after ``@data`` each line is one case,
    its channels separated by ``:`` and the values of a channel by ``,`` (``?`` missing ->
    NaN), then the class label when ``@classLabel true`` (or the target when
    ``@targetLabel true``). Timestamped data (``@timeStamps true``) is not supported.

    Returns:
        ``(series, labels, header)``: a list of float32 ``(T_i, C)`` arrays, a list of label
        strings (``None`` when the file has none), and the header as a dict with
        lower-case keys (``classlabel`` -> the list of class names, or ``False``).
    """
    header, series, labels = {}, [], []
    in_data = False
    for number, raw in enumerate(str(text).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise ValueError(f".ts line {number}: expected an @tag before @data, got {line[:40]!r}")
            tag, _, rest = line[1:].partition(" ")
            tag, words = tag.lower(), rest.split()
            if tag == "data":
                in_data = True
                if _is_true(header.get("timestamps", False)):
                    raise NotImplementedError("timestamped .ts data (@timeStamps true) is not supported")
            elif tag == "classlabel":
                header[tag] = words[1:] if words and _is_true(words[0]) else False
            elif tag in ("dimensions", "serieslength"):
                header[tag] = int(words[0])
            elif words and words[0].lower() in ("true", "false"):
                header[tag] = _is_true(words[0])
            else:
                header[tag] = rest.strip()
            continue
        parts = line.split(":")
        if header.get("classlabel") or header.get("targetlabel"):
            labels.append(parts.pop().strip())
        try:
            channels = [np.array(p.replace("?", "NaN").split(","), dtype=np.float64) for p in parts]
        except ValueError as err:
            raise ValueError(f".ts line {number}: {err}") from None
        if "dimensions" in header and len(channels) != header["dimensions"]:
            raise ValueError(f".ts line {number}: {len(channels)} channels, header says {header['dimensions']}")
        if len({len(c) for c in channels}) != 1:
            raise ValueError(f".ts line {number}: channels of one case differ in length "
                             f"({sorted({len(c) for c in channels})})")
        series.append(np.stack(channels, axis=1).astype(np.float32))
    if not in_data:
        raise ValueError("not a .ts file: no @data line")
    names = header.get("classlabel")
    if names:
        unknown = sorted(set(labels) - set(names))
        if unknown:
            raise ValueError(f".ts labels {unknown[:5]} are not among @classLabel {names}")
    return series, (labels if labels else None), header


def read_ts(path):
    """``parse_ts`` of a file (UTF-8)."""
    return parse_ts(Path(path).read_text(encoding="utf-8"))


def pad_sequences(series, max_steps=None, value=0.0):
    """Stack ``(T_i, C)`` arrays into float32 ``(n, T, C)``, padded at the end with ``value``;
    returns ``(x, lengths)``. ``T`` is ``max_steps`` or the longest; longer ones raise."""
    lengths = np.array([len(s) for s in series], np.int64)
    steps = int(max_steps if max_steps is not None else (lengths.max() if len(series) else 0))
    if len(series) and lengths.max() > steps:
        raise ValueError(f"an example has {lengths.max()} steps, more than max_steps={steps}")
    channels = series[0].shape[1] if len(series) else 0
    x = np.full((len(series), steps, channels), value, np.float32)
    for i, s in enumerate(series):
        x[i, : len(s)] = s
    return x, lengths


def windows(series, length, stride=1):
    """Sliding windows along the first axis: ``(T, ...)`` -> ``(n, length, ...)``, a copy.

    ``n = (T - length) // stride + 1``; a tail shorter than ``length`` is dropped (as
    ``keras.utils.timeseries_dataset_from_array`` does). Window ``i`` starts at step
    ``i * stride``. Works on any dtype: ``windows(anomaly_mask, L, s).any(axis=1)`` says
    which windows overlap a labelled anomaly.
    """
    series = np.asarray(series)
    if series.ndim < 1:
        raise ValueError("windows needs an array with a time axis, got a scalar")
    length, stride = int(length), int(stride)
    if length < 1 or stride < 1:
        raise ValueError(f"length and stride must be >= 1, got length={length}, stride={stride}")
    if length > series.shape[0]:
        raise ValueError(f"window length {length} is longer than the series ({series.shape[0]} steps)")
    view = np.lib.stride_tricks.sliding_window_view(series, length, axis=0)[::stride]
    return np.ascontiguousarray(np.moveaxis(view, -1, 1))


def _numbers(line):
    try:
        [float(v) for v in line.split(",")]
    except ValueError:
        return False
    return bool(line.strip())


def read_series_file(path):
    """A ``.npy`` array or a ``.csv`` table of numbers (float32, as stored).

    CSV: comma-separated numbers, one row per line; a first line that is not numbers
    (a header) is skipped. What the rows mean is ``conform_series``'s job.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        x = np.load(path, allow_pickle=False)
    elif suffix == ".csv":
        with open(path, encoding="utf-8") as f:
            first = f.readline()
        skip = 0 if _numbers(first) else 1  # a header line
        try:
            x = np.loadtxt(path, delimiter=",", skiprows=skip, dtype=np.float64, ndmin=2)
        except ValueError as err:
            raise ValueError(f"{path}: not a table of comma-separated numbers ({err})") from None
    else:
        raise ValueError(f"{path}: expected a .npy array or a .csv table of series, got a {suffix or 'extensionless'} "
                         "file")
    if x.dtype.kind not in "fiu":
        raise ValueError(f"{path}: expected numbers, got dtype {x.dtype}")
    return x.astype(np.float32)


def conform_series(x, input_shape, mask_value=None, stride=1):
    """Series in any of the usual layouts -> float32 ``(n, timesteps, channels)`` for a model.

    With the model's ``(T, C)``:

    - ``(n, T, C)``: as is; ``(n, T)`` when ``C == 1``: a channel axis is added;
    - ``(n, t, C)`` with ``t < T`` and ``mask_value`` given (a masking model): padded at
      the end with ``mask_value``;
    - one long series, ``(L, C)`` or ``(L,)`` when ``C == 1`` (e.g. a CSV with one column
      per channel and one row per step): cut into sliding windows of ``T`` steps, stride
      ``stride`` (``(L - T) // stride + 1`` windows).

    A CSV of one series per row (``n`` rows of ``T`` values) is ``(n, T)``. Anything
    else gets an error naming both layouts.
    """
    steps, channels = (int(d) for d in input_shape)
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise ValueError(f"series must be numbers, got dtype {x.dtype}")
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError("series contain NaN or infinite values")
    if x.ndim == 3 and x.shape[2] == channels:
        if x.shape[1] == steps:
            return x
        if x.shape[1] < steps and mask_value is not None:
            padded = np.full((len(x), steps, channels), mask_value, np.float32)
            padded[:, : x.shape[1]] = x
            return padded
    if x.ndim == 2 and channels == 1 and x.shape[1] == steps:
        return x[..., None]
    if x.ndim == 1 and channels == 1:
        x = x[:, None]
    if x.ndim == 2 and x.shape[1] == channels:
        if len(x) < steps:
            raise ValueError(f"one series of {len(x)} steps is shorter than the model's {steps}-step window")
        return windows(x, steps, stride)
    layouts = [f"(n, {steps}, {channels})"] + ([f"(n, {steps}) (a CSV: one series of {steps} values per row)"]
                                               if channels == 1 else [])
    layouts.append(f"one long series (L, {channels}) to cut into {steps}-step windows (a CSV: one row per step, "
                   f"{channels} column{'s' if channels > 1 else ''})")
    raise ValueError(f"series of shape {x.shape} do not fit a model of {steps} steps x {channels} channels; give "
                     + ", or ".join(layouts))
