import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture
def loopback_only(monkeypatch):
    """Refuse (and record) any connection or name lookup that is not loopback: the tests
    of download and upload code must never reach the real Hub."""
    import socket

    refused = []
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def guarded_connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            refused.append(address)
            raise ConnectionRefusedError(f"test: no network ({address})")
        return connect(sock, address)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK:
            refused.append(host)
            raise socket.gaierror(f"test: no network ({host})")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield
    assert refused == [], f"tried to reach the network: {refused}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test whose data cannot be had on this machine skips, with the reason, instead of
    failing: `bash tests/run.sh` installs what it can (Debian's Fashion-MNIST needs root and
    apt; CelebA and the others need ../shared/datasets beside the checkout)."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and report.failed:
        from aezoo.data.catalog import DatasetNotFoundError

        if call.excinfo.errisinstance(DatasetNotFoundError):
            reason = str(call.excinfo.value).splitlines()[0]
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: data not on this machine: {reason}")


#: what the contributors' tier (`bash tests/run.sh --quick`, i.e. -m "not slow and not full")
#: leaves to CI's full tier, by cost: whole modules, and single expensive tests by name
FULL_TIER_MODULES = {
    "test_crash_safety.py": "SIGKILL loops during training, saves and checkpoints",
    "test_shipped_presets.py": "every bundled preset re-measured against its recorded check",
    "test_experiments.py": "the README studies' scripts end to end",
    "test_backends.py": "the architecture harness again under a second backend",
}
FULL_TIER_TESTS = {"test_recipe_smoke", "test_uncatalogued_recipe_smoke",
                   "test_taef2_equals_the_original_on_other_backends",
                   "test_other_backends_match_the_original", "test_a_stable_diffusion_sized_vae_matches_the_original"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = getattr(item, "originalname", item.name)
        if item.path.name in FULL_TIER_MODULES or name in FULL_TIER_TESTS or "multiworker" in item.keywords:
            item.add_marker(pytest.mark.full)
