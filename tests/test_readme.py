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
    assert block[1].split("#")[0].strip() == TEST_COMMAND


TEST_COMMAND = "bash tests/run.sh"


def test_ci_runs_exactly_the_readme_test_command():
    """CI's only command is README's: whatever the tests need, the command itself sets up."""
    with open(os.path.join(os.path.dirname(README), ".ci", "run")) as f:
        commands = [line for line in f.read().splitlines()
                    if line.strip() and not line.startswith(("#", "set ", "cd "))]
    assert commands == [TEST_COMMAND]


def test_readme_preset_table_matches_the_bundled_metadata():
    assert markdown_table() in _readme(), "regenerate with: python -c 'import aezoo.presets as p; print(p.markdown_table())'"


def test_ci_builds_the_readme_environment_without_tensorflow():
    readme_line = next(line for line in _readme().splitlines() if line.startswith("pip install --no-deps -e ."))
    packages = readme_line.split("&& pip install", 1)[1].split()
    with open(os.path.join(os.path.dirname(README), "tests", "run.sh")) as f:
        ci = f.read()
    ci_install = ci.split("/tmp/aezoo-jax/bin/pip install -q --no-deps -e . && /tmp/aezoo-jax/bin/pip install", 1)[1]
    ci_packages = ci_install.split("\nKERAS_BACKEND", 1)[0].replace("\\\n", " ").split()
    assert [p for p in ci_packages if p not in ("-q", "pytest")] == packages
    assert "tensorflow" not in " ".join(packages)
