"""A fork server for tests/test_crash_safety.py: writers the test SIGKILLs mid-write.

Importing TensorFlow takes seconds, so this process imports it once and forks one
writer per trial. It forks before running any TensorFlow op (TensorFlow starts its
runtime and thread pools at the first one), so each child starts its own.
It reads commands on stdin, one per line, and answers on stdout:

    run <kind> <folder> <i> [n]
                              fork a writer: it prints "start <pid>", then writes states
                              i, i + 1, ... over the folder's state i - 1, printing
                              "done <i>" after each, until it is killed; with ``n`` it
                              SIGKILLs itself just before its n-th file system change
                              (a rename, unlink, mkdir, open for writing, ...)
    measure <kind> <folder>   fork a writer that writes states 0 to 5, then prints "seconds
                              <median seconds per write> changes <file system changes per write>"
    wait <pid>                reap a writer; prints "exit <pid> <signal or -exit code>"

``kind`` is ``preset`` (``save_preset`` of a small model, metadata {"write": i}) or
``checkpoint`` (``save_checkpoint`` at epoch i). State i holds the weights and optimizer
values ``state_values(model, i)``, which alternate between two sets; the test calls it too.
"""

import builtins
import os
import signal
import sys
import time
import traceback

import numpy as np


def build_model():
    import aezoo

    model = aezoo.build("dense-ae", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(16,))
    model.optimizer.build(model.trainable_variables)
    return model


def state_values(model, i):
    """(weights, optimizer values) of state ``i``: one of two fixed sets, by parity."""
    rng = np.random.default_rng(1000 + i % 2)
    weights = [rng.normal(size=w.shape).astype("float32") for w in model.get_weights()]
    optimizer = []
    for v in model.optimizer.variables if getattr(model, "optimizer", None) is not None else ():
        dtype = np.dtype(v.dtype)
        if dtype.kind in "iu":
            optimizer.append(np.full(v.shape, 7 + i % 2, dtype=dtype))
        else:
            optimizer.append(rng.uniform(0.001, 0.01, size=v.shape).astype(dtype))
    return weights, optimizer


def write_state(kind, model, folder, i):
    weights, optimizer = state_values(model, i)
    model.set_weights(weights)
    if kind == "preset":
        from aezoo.presets.folder import save_preset

        save_preset(model, folder, preset="crash-test", metadata={"write": i})
    else:
        from aezoo.training.checkpoints import save_checkpoint

        for variable, value in zip(model.optimizer.variables, optimizer):
            variable.assign(value)
        save_checkpoint(model, folder, i)


def count_changes(kill_at=None):
    """Count this process's file system changes (the calls that rename, remove, create or
    open for writing); with ``kill_at``, SIGKILL the process just before change number
    ``kill_at``. Returns a one-item list holding the count."""
    import aezoo.io

    count = [0]

    def wrap(fn, writes=lambda *a, **k: True):
        def counted(*args, **kwargs):
            if writes(*args, **kwargs):
                count[0] += 1
                if count[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return counted

    for name in ("rename", "replace", "unlink", "remove", "rmdir", "mkdir", "chmod", "truncate"):
        setattr(os, name, wrap(getattr(os, name)))
    aezoo.io._exchange = wrap(aezoo.io._exchange)  # renameat2 through ctypes
    builtins.open = wrap(builtins.open, lambda file, mode="r", *a, **k: any(c in mode for c in "wax+"))
    return count


def _say(line):
    os.write(1, (line + "\n").encode())


def _writer(command, kind, folder, first=0, kill_at=None):
    model = build_model()
    if command == "measure":
        seconds, changes = [], count_changes()
        for i in range(6):
            t0 = time.perf_counter()
            write_state(kind, model, folder, i)
            seconds.append(time.perf_counter() - t0)
        _say(f"seconds {float(np.median(seconds[1:]))} changes {changes[0] / 6}")
        return
    if kill_at is not None:
        count_changes(kill_at)
    _say(f"start {os.getpid()}")
    deadline = time.monotonic() + 120  # the test kills it long before
    i = first
    while time.monotonic() < deadline:
        write_state(kind, model, folder, i)
        _say(f"done {i}")
        i += 1


def main():
    import keras  # noqa: F401  (the slow imports, once, before any fork)

    import aezoo  # noqa: F401
    import aezoo.presets.folder  # noqa: F401
    import aezoo.training.checkpoints  # noqa: F401

    _say("ready")
    for line in sys.stdin:
        command, *args = line.split()
        if command in ("run", "measure"):
            kind, folder, *numbers = args
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                code = 0
                try:
                    _writer(command, kind, folder, *map(int, numbers))
                except BaseException:
                    traceback.print_exc()
                    sys.stderr.flush()
                    code = 3
                os._exit(code)
            if command == "measure":
                _, status = os.waitpid(pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    _say(f"failed {os.waitstatus_to_exitcode(status)}")
        elif command == "wait":
            _, status = os.waitpid(int(args[0]), 0)
            _say(f"exit {args[0]} {-os.waitstatus_to_exitcode(status)}")
        else:
            _say(f"unknown {command}")


if __name__ == "__main__":
    main()
