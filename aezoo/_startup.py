"""Import Keras and its backend with the native start-up chatter hidden.

TensorFlow 2.21 writes absl's pre-initialisation lines, oneDNN and CUDA probes from
C++ straight to file descriptor 2, and ``TF_CPP_MIN_LOG_LEVEL=2`` still lets "failed
call to cuInit: ... CUDA error" through on a CPU machine, which a newcomer reads as a
failure. aezoo defaults the level to 3 (errors still raise as Python exceptions) and
points fd 2 at a temporary file while Keras imports, replaying it if the import fails.
``AEZOO_BACKEND_LOGS=1`` (or setting ``TF_CPP_MIN_LOG_LEVEL`` yourself) shows it all.
"""

import os
import sys
import tempfile


def import_keras_quietly():
    if os.environ.get("AEZOO_BACKEND_LOGS") == "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "keras" in sys.modules:
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreters): import as is
        return
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
