"""Inference speed on each installed Keras backend: import, one-image encode, batch reconstruct.

Run: ``python -m aezoo.benchmark inference`` (options: ``--backends``, ``--presets``,
``--repeats``). Each backend runs in its own process with ``KERAS_BACKEND`` set. For each
preset it reports the median of ``--repeats`` timed calls, after one warm-up call:

- ``encode`` of one image against a direct ``model.encoder(x)`` call (target: ratio <= 1.5);
- ``reconstruct`` of 1,024 inputs against ``model.predict`` (target: ratio >= 1);
- ``import aezoo`` against ``import keras`` in fresh interpreters, wall and CPU time
  (target: <= +0.3 s).

Not a test: numbers depend on the machine and its load.
"""

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

PRESETS = ("dense-ae-mnist", "conv-vae-faces")
BACKENDS = ("tensorflow", "jax", "torch")
_BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def _median_seconds(fn, repeats):
    fn()  # warm-up: tracing / compilation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _import_seconds(module, backend, repeats):
    """Median (wall, CPU) seconds of ``import module`` in a fresh interpreter; CPU time is
    the steadier number on a shared machine."""
    code = (f"import time; t, c = time.perf_counter(), time.process_time(); import {module}; "
            "print(time.perf_counter() - t, time.process_time() - c)")
    env = {**os.environ, "KERAS_BACKEND": backend}
    runs = [tuple(map(float, subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                            check=True).stdout.strip().splitlines()[-1].split()))
            for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def measure_backend(presets, repeats):
    """Timings on the backend this process runs (called in a child with KERAS_BACKEND set)."""
    import numpy as np

    import aezoo

    rows = []
    for name in presets:
        model = aezoo.load(name)
        x = np.random.default_rng(0).uniform(0, 1, (1024, *model.data_shape)).astype("float32")
        one = x[:1]
        encode = _median_seconds(lambda: model.encode(one), repeats)
        direct = _median_seconds(lambda: model.encoder(one), repeats)
        reconstruct = _median_seconds(lambda: model.reconstruct(x), max(3, repeats // 10))
        predict = _median_seconds(lambda: model.predict(x, verbose=0), max(3, repeats // 10))
        rows.append({"preset": name, "encode_ms": encode * 1e3, "direct_encoder_ms": direct * 1e3,
                     "encode_ratio": encode / direct, "reconstruct_per_s": len(x) / reconstruct,
                     "predict_per_s": len(x) / predict, "reconstruct_vs_predict": predict / reconstruct})
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS,
                        help="default: every installed backend")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--repeats", type=int, default=50, help="timed one-image calls (batch calls: a tenth)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure_backend(args.presets, args.repeats)))
        return 0
    backends = args.backends or [b for b in BACKENDS if importlib.util.find_spec(_BACKEND_MODULES[b])]
    results = {}
    for backend in backends:
        env = {**os.environ, "KERAS_BACKEND": backend}
        out = subprocess.run([sys.executable, "-m", "aezoo.benchmark", "inference", "--child", backend,
                              "--presets", *args.presets, "--repeats", str(args.repeats)],
                             env=env, capture_output=True, text=True)
        if out.returncode:
            print(f"{backend}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
            continue
        (keras_s, keras_cpu), (aezoo_s, aezoo_cpu) = (_import_seconds(m, backend, 3) for m in ("keras", "aezoo"))
        results[backend] = {"import_keras_s": keras_s, "import_aezoo_s": aezoo_s, "import_keras_cpu_s": keras_cpu,
                            "import_aezoo_cpu_s": aezoo_cpu, "presets": json.loads(out.stdout.strip().splitlines()[-1])}
        print(f"[{backend}] import keras {keras_s:.2f} s wall / {keras_cpu:.2f} s CPU, import aezoo {aezoo_s:.2f} s "
              f"wall / {aezoo_cpu:.2f} s CPU (+{aezoo_s - keras_s:.2f} s wall, +{aezoo_cpu - keras_cpu:.2f} s CPU)")
        for r in results[backend]["presets"]:
            print(f"  {r['preset']:16s} encode(1) {r['encode_ms']:6.2f} ms vs encoder(x) "
                  f"{r['direct_encoder_ms']:6.2f} ms (x{r['encode_ratio']:.2f});  reconstruct(1024) "
                  f"{r['reconstruct_per_s']:8.0f}/s vs predict {r['predict_per_s']:8.0f}/s "
                  f"(x{r['reconstruct_vs_predict']:.2f})")
    print(json.dumps(results))
    return 0 if results else 1
