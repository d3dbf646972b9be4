"""Same seed, same data: a small run compared with one written by the code before the simulator
plugin redesign (``tests/reference.py`` says how it was made). Each difference is explained:

- the scene and episode JSON moved to schema 2.0: rotations as quaternions, ``rooms``, ``video``,
  ``visibility_rule``, ``movable`` and ``look_alikes`` per object. The old JSON, read by the new
  model (which migrates schema 1.0), must equal the new JSON, floats to 1e-9 (a yaw now goes
  through its quaternion);
- ``renderer`` records every setting of the backend (``max_bounces``, ``hfov_deg``, ``device`` too);
- the sample's ``config`` is the nested ``RunConfig``; samples carry ``code_version``, and
  degraded ones an empty ``generation``;
- the questions: since the blind-baseline work each family draws from its own random stream, and
  ``action_side`` (in front / behind after a turn), ``action_distance`` (sideways steps too),
  ``support`` (never the floor) and ``which_object_moved`` (movable distractors) changed on
  purpose, so different questions are asked; every question both runs ask (same family, same
  slots) must get the same answer, and at least a quarter of the old ones are asked again (by
  family: since issue #32 the programs that compare against a threshold say so with
  ``scene.margin``, the same comparison, so their program ids changed); items carry their
  ``difficulty``, which the old run's lack;
- degraded variants count an object that is faint in a frame (between half the discernibility
  thresholds and them, issue 30) as a glimpse of fewer than ``min_pixels`` pixels where the old
  code counted 0, and its extent takes in those frames' surface: such glimpses are set back to 0
  (with the old extent) before the episodes are compared;
- the evidence names the room the camera stands in per frame (``camera_room``, all 0 in one
  room) and per-room structure for houses (``rooms``, empty here), since issue 27, and which of
  each visible object's surface samples the video shows (``surface_seen``), since issue 28, and per
  frame the share of each mask's outline an occluder borders and its innermost pixel (``occluded``,
  ``inner``), since issue 33;
- the colour of a few pixels: the old run's Workbench frames of episode 1 differ from a fresh
  render of the same episode by the old code itself (up to 23 levels on a few hundred pixels,
  0.11 in a frame's mean), measured; depth and instance maps are bit-identical.
"""

from __future__ import annotations

import json
import math

import pytest

from synth.core.scene import Episode
from synth.flows.config import RunConfig
from synth.flows.run import run
from tests.reference import fingerprint, load_reference


def _same(a, b, path="") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in one" for k in set(a) ^ set(b)]
        return out + [d for k in set(a) & set(b) for d in _same(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _same(x, y, f"{path}[{i}]")]
    if isinstance(a, float) or isinstance(b, float):
        ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, abs_tol=1e-9)
        return [] if ok else [f"{path}: {a!r} vs {b!r}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def _forget_glimpses(old: dict, new: dict, min_pixels: int = 100) -> None:
    """Where the old variant counted an object 0 pixels in a frame and the new one a glimpse
    (1 to ``min_pixels - 1``), count it 0 in ``new`` and give it the old extent back."""
    pairs = zip(old["visibility"], new["visibility"], old["evidence"]["objects"], new["evidence"]["objects"])
    for was, now, was_ev, now_ev in pairs:
        assert was["id"] == now["id"] == was_ev["id"] == now_ev["id"]
        glimpses = [f for f, (a, b) in enumerate(zip(was["pixels"], now["pixels"])) if a == 0 < b < min_pixels]
        if glimpses:
            now["pixels"] = [0 if f in glimpses else b for f, b in enumerate(now["pixels"])]
            now_ev["extent"] = was_ev["extent"]


@pytest.mark.slow
def test_same_seed_gives_the_same_dataset_as_before_the_plugin_redesign(tmp_path):
    ref = load_reference()
    old_run = ref["run"]
    cfg = RunConfig.from_options(
        preset=old_run["preset"],
        episodes=old_run["episodes"],
        frames=old_run["frames"],
        width=old_run["width"],
        height=old_run["height"],
        quality=old_run["quality"],
        samples=old_run["samples"],  # recorded with the episode (a draft render does not use it)
        degradations=old_run["degradations"],
        seed=old_run["seed"],
        assets="primitives",  # the only furniture there was
    )
    run(cfg, tmp_path / "ds")
    new = fingerprint(tmp_path / "ds")
    assert sorted(new["samples"]) == sorted(ref["samples"])
    both = total = 0
    for key, old in ref["samples"].items():
        got = new["samples"][key]
        assert got["depth_sha256"] == old["depth_sha256"], key
        assert got["instance_sha256"] == old["instance_sha256"], key
        worst = max(abs(x - y) for fa, fb in zip(old["rgb_mean"], got["rgb_mean"]) for x, y in zip(fa, fb))
        assert worst <= 0.5, (key, worst)
        asked_before = {
            (q["family"], json.dumps(q["slots"], sort_keys=True)): (q["answer"], q["value"])
            for q in old["json"]["questions"]
            if not q["abstain"]
        }
        for q in got["json"]["questions"]:
            before = asked_before.get((q["family"], json.dumps(q["slots"], sort_keys=True)))
            if before is not None and not q["abstain"]:
                assert (q["answer"], q["value"]) == before, (key, q["id"])
                both += 1
        total += len(asked_before)
        migrated = Episode.model_validate(old["json"]["episode"]).model_dump(mode="json")
        shipped = dict(got["json"]["episode"])
        settings_since = {"max_bounces": 2, "hfov_deg": 70.0, "device": "auto"}
        assert shipped.pop("renderer") == {**migrated.pop("renderer"), **settings_since}
        shipped.pop("visibility_rule"), migrated.pop("visibility_rule")
        for o in shipped["scene"]["objects"]:
            o["movable"] = False  # schema 1.0 did not record it
        assert shipped["schema_version"] == "2.0"
        if "-" in key:  # a degraded variant: a faint object is a glimpse now (issue 30), see the module doc
            _forget_glimpses(migrated, shipped)
        # the evidence names the room the camera stands in per frame since houses (issue 27): one room here
        assert shipped["evidence"].pop("camera_room") == [0] * len(shipped["frames"]), key
        assert shipped["evidence"].pop("rooms") == [], key
        migrated["evidence"].pop("camera_room"), migrated["evidence"].pop("rooms")
        # and which surface samples of each object the video shows (issue 28), which the old run lacks
        seen = [now.pop("surface_seen") for now in shipped["evidence"]["objects"]]
        assert all(was.pop("surface_seen") is None for was in migrated["evidence"]["objects"]) and any(seen)
        # and, per frame, the share of each mask's outline an occluder borders and its innermost
        # pixel (issue 33, grounded answers)
        for now, was in zip(shipped["evidence"]["objects"], migrated["evidence"]["objects"]):
            assert (was.pop("occluded"), was.pop("inner")) == (None, None)
            grounded = now.pop("occluded"), now.pop("inner")
            assert (
                [x is None for x in grounded[0]] == [b is None for b in now["box"]] == [x is None for x in grounded[1]]
            )
        assert _same(migrated, shipped) == [], key
        assert got["json"]["episode"]["visibility_rule"] == {"min_pixels": 100, "min_frames": 2}
    assert both >= 0.25 * total, (both, total)
