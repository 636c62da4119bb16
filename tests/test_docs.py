"""The docs stay true: two set-up commands, and every setting documented."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_gives_exactly_the_two_setup_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", readme, flags=re.S)
    commands = {line.strip() for block in blocks for line in block.splitlines() if line.strip()}
    assert commands == {"make run", "make test"}
    assert readme.index("## 日本語") < readme.index("## English")
    for heading in ("### 概要", "### 起動", "### テスト"):
        assert heading in readme


def test_every_environment_variable_is_documented() -> None:
    files = [*(ROOT / "src" / "lgcloud").rglob("*.py"), *(ROOT / "deploy").glob("*.py")]
    sources = "".join(p.read_text(encoding="utf-8") for p in files)
    variables = set(re.findall(r"\"(LGCLOUD_[A-Z_]+)\"", sources))
    assert "LGCLOUD_DATABASE_URL" in variables
    operations = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert sorted(v for v in variables if f"`{v}`" not in operations) == []


def test_the_makefile_has_the_documented_targets() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("help", "run", "test", "lint"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("make test")
