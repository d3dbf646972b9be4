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
    assert code.startswith("import synth\n") and len(code.splitlines()) <= 15, code  # a hello world
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


def test_export_and_eval_commands_run_as_written(tiny_dataset, tmp_path):
    """The README's `synth export` / `synth eval` lines, on a finished dataset in place of data/demo."""
    import shlex
    import subprocess
    import sys

    text = README.read_text()
    section = text[text.index("## From dataset to model") :]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)[:2]
    bindir = Path(sys.executable).parent
    commands = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if line.startswith(("synth export", ".venv/bin/python")):  # the second runs eval on its output
                commands.append(line.replace("data/demo", str(tiny_dataset[0])))
    assert len(commands) == 2, commands
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    for command in commands:
        command = command.replace(".venv/bin/python", sys.executable)
        done = subprocess.run(command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stderr[-2000:])
    assert (tmp_path / "data" / "llava" / "llava_video.json").exists()
    assert "overall: score 100.0" in done.stdout and (tmp_path / "p.report.json").exists()
    assert shlex.split(commands[0])[:2] == ["synth", "export"]


def test_reading_example_runs_with_two_workers(tiny_dataset):
    """The README's first Python block (load_dataset, then a two-worker DataLoader), on a finished
    dataset in place of data/demo."""
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert "num_workers=2" in code and 'load_dataset("data/demo"' in code
    scope: dict = {}
    exec(compile(code.replace("data/demo", str(tiny_dataset[0])), "README.md", "exec"), scope)
    batch = scope["batch"]
    assert batch["mp4"].ndim == 5 and batch["mp4"].shape[2] == 3
