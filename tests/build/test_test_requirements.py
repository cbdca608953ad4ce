"""requirements-test.txt (the README's test command: the test tools without building
linreg a second time) lists exactly the `test` extra of pyproject.toml (issue 16)."""
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def normalized(requirement):
    return re.sub(r"\s+", "", requirement).replace('"', "'").lower()


def the_test_extra():
    text = (REPO_ROOT / "pyproject.toml").read_text()
    block = re.search(r"^test = \[\n(.*?)^\]", text, re.M | re.S).group(1)
    lines = [line.split("#")[0].strip() for line in block.splitlines()]
    return {normalized(line.strip(",").strip('"')) for line in lines if line}


def test_the_requirements_file_is_the_test_extra():
    lines = (REPO_ROOT / "requirements-test.txt").read_text().splitlines()
    listed = {normalized(line) for line in lines if line.strip() and not line.startswith("#")}
    extra = the_test_extra()
    assert "matplotlib>=3.5" in extra and len(extra) >= 10
    assert listed == extra
