"""The README's Python API example runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import datasets

README = Path(__file__).resolve().parents[1] / "README.md"


def test_python_api_example_runs(tmp_path, capsys):
    text = README.read_text()
    section = text[text.index("## Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert "->" in capsys.readouterr().out
    ds = datasets.load_dataset(str(tmp_path / "hello_synth"), split="train")
    assert len(ds) == 1 and ds[0]["__key__"] == "ep0"


def test_readme_starts_with_the_two_commands():
    first_block = re.search(r"```bash\n(.*?)```", README.read_text(), re.S).group(1)
    assert first_block.splitlines()[0].startswith("make demo")
    assert first_block.splitlines()[1].startswith("make test")
