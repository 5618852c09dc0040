"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every aezoo writer (presets, checkpoints, caches, figures, reports) goes through
``atomic_path``: write to a temp file in the destination folder, flush it to disk,
then ``os.replace`` it over the destination (atomic on POSIX and Windows within one
file system). A crash or kill leaves at worst a stray ``.tmp-`` file, never a torn one.
"""

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def current_umask():
    """The process umask, read without changing it (``os.umask`` sets it process-wide)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def _fsync_dir(folder):
    """Make a rename durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_folder(folder, files=True):
    """Flush every file directly in ``folder`` (unless ``files=False``), then the folder's
    own entries, to disk.

    Call it on a folder written aside before a rename (``replace_dir``, or a pointer
    file replaced by ``atomic_write_text``) makes its content visible, so that a power
    loss cannot publish names whose data never reached the disk.
    """
    for entry in os.scandir(folder) if files else ():
        if entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)  # Windows fsyncs writable fds only
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


@contextlib.contextmanager
def atomic_path(path, mode=0o666):
    """Yield a temp path beside ``path`` (same suffix); on success it replaces ``path``.

    Use it for writers that want a file name (``model.save_weights``, ``savefig``).
    On an exception the temp file is removed and ``path`` is untouched. The result gets
    ``mode`` masked by the umask, as a plain ``open`` would give it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix="".join(path.suffixes[-2:]), dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, mode & ~current_umask())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path, write, binary=False):
    """Write ``path`` atomically: ``write(fileobj)`` fills a temp file that then replaces it."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            write(f)


def atomic_write_text(path, text):
    """Write a text file atomically (UTF-8)."""
    atomic_write(path, lambda f: f.write(text))


def _exchange(a, b):
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: this file system or kernel cannot
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_dir(src, dst):
    """Put folder ``src`` in place of ``dst``, so a reader sees the old or the new folder.

    A new ``dst`` is a plain rename. An existing one is swapped with ``src`` in one
    atomic exchange where the kernel offers it (Linux), then the old copy is deleted;
    elsewhere it is renamed aside first, which leaves a moment with no ``dst``.
    """
    src, dst = Path(src), Path(dst)
    if not dst.exists():
        os.rename(src, dst)
        _fsync_dir(dst.parent)
        return
    if _exchange(src, dst):
        _fsync_dir(dst.parent)
        shutil.rmtree(src, ignore_errors=True)  # src now holds the old folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-", dir=dst.parent))
    os.rename(dst, old / dst.name)
    try:
        os.rename(src, dst)
    except BaseException:
        os.rename(old / dst.name, dst)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)


class NotOursError(ValueError):
    """An existing path that aezoo did not write, which a writer refuses to replace."""


def check_replaceable(target, owned=None, force=False, protect=(), what="aezoo folder"):
    """Refuse to replace ``target`` unless it is absent, an empty folder, or one that
    ``owned(target)`` recognises as aezoo's own (``force=True`` waives that last test).

    A file is never replaced by a folder, and no folder holding a path of ``protect`` (the
    inputs of the run that writes it) is ever replaced, forced or not. Raises NotOursError.
    """
    target = Path(target)
    if not os.path.lexists(target):
        return
    if target.is_symlink() or not target.is_dir():
        raise NotOursError(f"{target} is a file, not a folder: refusing to replace it; choose another path")
    root = os.path.realpath(target)
    for path in protect:
        if path is not None and os.path.commonpath([root, os.path.realpath(path)]) == root:
            raise NotOursError(f"refusing to replace {target}: it holds this run's input {path}; "
                               "write the output to another folder")
    entries = sorted(p.name for p in target.iterdir())
    if not entries or force or (owned is not None and owned(target)):
        return
    shown = ", ".join(entries[:3]) + (f" and {len(entries) - 3} more" if len(entries) > 3 else "")
    raise NotOursError(f"{target} exists and is not an {what} (it holds {shown}): refusing to replace it; "
                       "choose a new or empty folder, or pass --force (force=True) to replace it")


@contextlib.contextmanager
def staged_dir(target, owned=None, force=False, protect=(), what="aezoo folder"):
    """Build a folder beside ``target`` and swap it in whole: ``with staged_dir(out) as tmp:``.

    An existing ``target`` is replaced only as ``check_replaceable`` allows (empty, or
    ``owned`` by aezoo, or ``force``; never a file, never a folder holding a ``protect`` path).

    The body writes into ``tmp`` (a fresh hidden folder in the same parent, so the swap
    is a rename on one file system); on success every file is flushed, the folder gets
    the umask's permissions (mkdtemp makes it 0700) and ``replace_dir`` exchanges it with
    ``target`` atomically; on any error or interrupt it is removed and ``target`` is
    untouched.
    """
    target = Path(target)
    check_replaceable(target, owned, force, protect, what)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        fsync_folder(tmp)
        os.chmod(tmp, 0o777 & ~current_umask())
        replace_dir(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_digest(path, chunk_size=1 << 20):
    """``{"sha256": hex, "size": bytes}`` of a file, read in chunks (manifests, checkpoint sets)."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
            size += len(chunk)
    return {"sha256": digest.hexdigest(), "size": size}
