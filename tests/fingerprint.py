"""Fingerprints of what synth produces, to show that a refactoring changed no data.

    python -m tests.fingerprint record DIR    # runs the reference runs, writes DIR/fingerprint.json
    python -m tests.fingerprint compare A.json B.json [--noise NOISE.json]

The reference runs (all through the ``synth`` command, which a redesign keeps): (a) a 3-episode
``sat-dynamic`` draft run with primitive furniture and fog, lens-distortion and low-light
variants, (b) the same with the z-buffer renderer, plus (c) the program verifier's sample
episodes. A dataset's fingerprint: sample keys, every sample's JSON as data (``code_version``
and ``config`` set apart), SHA-256 of the depth and instance maps, SHA-256 of the mp4 bytes, the
manifest (shard checksums set apart: they hash the JSON) and ``synth verify --evidence``'s
per-family table. ``compare`` lists every difference; with ``--noise`` (a second recording of
the same code), mp4s that differ between two runs of the same code are reported as noise.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np

SYNTH = str(Path(sys.executable).with_name("synth"))
COMMON = ["--episodes", "3", "--seed", "0", "--preset", "sat-dynamic", "--assets", "primitives"]
VARIANTS = ["--degradations", "fog:2,lens_distortion:2,low_light:2"]
RUNS = {
    "blender": [*COMMON, "--quality", "draft", *VARIANTS],
    "zbuffer": [*COMMON, "--renderer", "zbuffer", *VARIANTS],
}
SET_APART = ("code_version", "config")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dataset_fingerprint(root: Path) -> dict:
    manifest = json.loads((root / "manifest.json").read_text())
    samples: dict[str, dict] = {}
    for shard in sorted(root.glob("train-*.tar")):
        with tarfile.open(shard) as tar:
            files: dict[str, dict[str, bytes]] = {}
            for m in tar:
                key, ext = m.name.split(".", 1)
                files.setdefault(key, {})[ext] = tar.extractfile(m).read()
        for key, f in files.items():
            meta = json.loads(f["json"])
            apart = {k: meta.pop(k, None) for k in SET_APART}
            gt = np.load(io.BytesIO(f["gt.npz"]))
            samples[key] = {
                "json": meta,
                "set_apart": apart,
                "gt": {name: _sha(np.ascontiguousarray(gt[name]).tobytes()) for name in sorted(gt.files)},
                "mp4": _sha(f["mp4"]),
            }
    shards = manifest.pop("shards", None)
    apart = {k: manifest.pop(k, None) for k in (*SET_APART, "code_versions")}
    return {
        "keys": sorted(samples),
        "samples": samples,
        "manifest": manifest,
        "manifest_set_apart": {**apart, "shards": shards},
    }


def verify_table(root: Path) -> list[str]:
    out = subprocess.run([SYNTH, "verify", str(root), "--evidence"], capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def sample_episodes_fingerprint() -> list:
    from synth.cli.compile import verification_episodes

    return [json.loads(ep.model_dump_json()) for ep in verification_episodes()]


def record(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    result: dict = {}
    for name, args in RUNS.items():
        root = out / name
        subprocess.run([SYNTH, "run", *args, "--out", str(root), "--overwrite"], check=True, env=os.environ)
        result[name] = {**dataset_fingerprint(root), "verify": verify_table(root)}
        result[name]["run_json"] = json.loads((root / "run.json").read_text())
    result["sample_episodes"] = sample_episodes_fingerprint()
    (out / "fingerprint.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    print(f"wrote {out / 'fingerprint.json'}")


def _diff(a, b, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'new' if k in b else 'old'}")
            else:
                _diff(a[k], b[k], f"{path}/{k}", out)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{path}[{i}]", out)
    elif a != b:
        out.append(f"{path}: {str(a)[:80]} != {str(b)[:80]}")


# the scene-source fields: flat before the redesign, a tagged union ("source") after it
SOURCE_FIELDS = ("source", "simulator", "scene_dataset", "scene", "house", "assets", "asset_variants")


def _outside_source(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in SOURCE_FIELDS}


def _same_config(old_run_json: dict, new_run_json: dict) -> bool:
    """The old run.json validates (migrates) to the configuration the new code wrote."""
    try:
        from synth.flows.config import RunConfig
    except ImportError:  # the old code: nothing to migrate
        return old_run_json == new_run_json
    return RunConfig.model_validate(old_run_json) == RunConfig.model_validate(new_run_json)


def compare(old: dict, new: dict, noise: dict | None) -> list[str]:
    problems: list[str] = []
    for name in (*RUNS, "sample_episodes"):
        if name == "sample_episodes":
            _diff(old[name], new[name], name, problems)
            continue
        o, n = old[name], new[name]
        for part in ("keys", "manifest", "verify"):
            _diff(o[part], n[part], f"{name}/{part}", problems)
        _diff(_outside_source(o["run_json"]), _outside_source(n["run_json"]), f"{name}/run.json", problems)
        if not _same_config(o["run_json"], n["run_json"]):
            problems.append(f"{name}/run.json: the old file does not validate to the new configuration")
        for key in sorted(set(o["samples"]) & set(n["samples"])):
            so, sn = o["samples"][key], n["samples"][key]
            _diff(so["json"], sn["json"], f"{name}/{key}/json", problems)
            _diff(
                _outside_source(so["set_apart"]["config"]),
                _outside_source(sn["set_apart"]["config"]),
                f"{name}/{key}/config",
                problems,
            )
            _diff(so["gt"], sn["gt"], f"{name}/{key}/gt", problems)
            if so["mp4"] != sn["mp4"]:
                noisy = noise is not None and noise[name]["samples"][key]["mp4"] != so["mp4"]
                problems.append(f"{name}/{key}/mp4 differs{' (as between two runs of the same code)' if noisy else ''}")
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["record"] and len(argv) == 2:
        record(Path(argv[1]))
        return 0
    if argv[:1] == ["compare"] and len(argv) in (3, 5) and (len(argv) == 3 or argv[3] == "--noise"):
        noise = json.loads(Path(argv[4]).read_text()) if len(argv) == 5 else None
        found = compare(json.loads(Path(argv[1]).read_text()), json.loads(Path(argv[2]).read_text()), noise)
        print("\n".join(found) or "identical")
        return 1 if any("noise" not in p and "as between" not in p for p in found) else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
