"""README stays true: its first two commands, and its preset table equals the bundled metadata."""

import os

from aezoo.presets import markdown_table

README = os.path.join(os.path.dirname(__file__), "..", "README.md")


def _readme():
    with open(README) as f:
        return f.read()


def test_readme_starts_with_the_demo_and_test_commands():
    block = _readme().split("```bash\n", 1)[1].split("```", 1)[0].splitlines()
    assert block[0].startswith("pip install . && aezoo demo conv-vae-faces -o demo.png")
    assert block[1].startswith('pip install -e ".[test]" && python -m pytest -m "not slow"')


def test_ci_runs_the_readme_test_command():
    with open(os.path.join(os.path.dirname(README), ".ci", "run")) as f:
        ci = f.read()
    assert 'pip install -e ".[test]" && python -m pytest -m "not slow"' in ci


def test_readme_preset_table_matches_the_bundled_metadata():
    assert markdown_table() in _readme(), "regenerate with: python -c 'import aezoo.presets as p; print(p.markdown_table())'"


def test_ci_builds_the_readme_environment_without_tensorflow():
    readme_line = next(line for line in _readme().splitlines() if line.startswith("pip install --no-deps -e ."))
    packages = readme_line.split("&& pip install", 1)[1].split()
    with open(os.path.join(os.path.dirname(README), ".ci", "run")) as f:
        ci = f.read()
    ci_install = ci.split("/tmp/aezoo-jax/bin/pip install -q --no-deps -e . && /tmp/aezoo-jax/bin/pip install", 1)[1]
    ci_packages = ci_install.split("\nKERAS_BACKEND", 1)[0].replace("\\\n", " ").split()
    assert [p for p in ci_packages if p not in ("-q", "pytest")] == packages
    assert "tensorflow" not in " ".join(packages)
