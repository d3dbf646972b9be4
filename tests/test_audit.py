"""The evidence audit (synth/audit/): it is independent of the programs, it catches answers the
video does not support, and every family's emitted answers agree with it on rendered runs."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from synth.audit import AUDITORS, agreement, answer, audit_dataset, discernible
from synth.core.records import GROUNDED
from synth.flows.config import RunConfig
from synth.flows.run import run
from synth.programs.family import ABSTAIN
from synth.programs.library import FAMILIES
from synth.storage.dataset import DatasetWriter, read_tar

ROOT = Path(__file__).resolve().parents[1]
SYNTH = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "synth")
# see tests/test_families.py
NEEDS_A_SURVEY = {
    "room_floor_area", "room_size_estimation", "obj_appearance_order", "rooms_visited", "larger_room", "object_room",
    "object_room_size",
}  # fmt: skip


def test_the_auditor_reads_nothing_from_the_programs():
    """Written apart from synth.programs: no import of it, no shipped evidence, no box sizes or centres."""
    files = sorted((ROOT / "synth" / "audit").glob("*.py"))
    assert {"__init__.py", "families.py", "view.py"} <= {f.name for f in files}
    for path in files:
        tree = ast.parse(path.read_text())
        imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [m for m in imported if m and m.split(".")[:2] == ["synth", "programs"]], (path.name, imported)
        attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert not attributes & {"evidence", "box", "size", "footprint", "height", "supported_by"}, path.name


def test_the_auditor_has_one_auditor_per_library_family():
    assert set(AUDITORS) == set(FAMILIES)
    with pytest.raises(KeyError, match="no definition for family 'no_such_family'"):
        answer(None, "no_such_family", {}, {})


def test_the_auditor_sees_an_object_in_the_channel_a_degradation_leaves():
    """Regression (issue 30): the auditor judged a degraded frame only in the channel in which the
    object stood out most in the clean frame. Overexposure clips a yellow box's red and green
    against a cream floor and leaves its blue: it is plainly there (it was judged 'cannot be made
    out'). A frame that takes every channel's contrast still hides it."""
    h, w = 40, 48
    clean = np.full((1, h, w, 3), 100, np.uint8)
    instance = np.zeros((1, h, w), np.uint16)
    instance[0, 12:28, 16:32] = 1
    clean[0][instance[0] == 1] = (170, 160, 50)  # stands out most in red in the clean frame
    clipped = np.full_like(clean, 255)
    clipped[..., 2] = 230
    clipped[0][instance[0] == 1] = (255, 255, 120)  # red and green clipped, blue kept
    meta = {"degradation": {"type": "overexposure"}}
    assert discernible(clipped, clean, instance, meta)[0, 1] == 1.0
    flat = np.full_like(clean, 255)
    assert discernible(flat, clean, instance, meta)[0, 1] == 0.0


def _faded(rgb: np.ndarray, instance: np.ndarray, oid: int, frames: list[int], margin: float) -> np.ndarray:
    """The frames with object ``oid``'s contrast against its surroundings (the discernibility
    test's ring) scaled so that it keeps ``margin`` x the test's contrast threshold in ``frames``:
    fog-like, the object faint there."""
    from scipy.ndimage import binary_dilation

    from synth.degradations.base import MIN_CONTRAST, RING_GAP_PX, RING_WIDTH_PX

    out = rgb.copy()
    grow = lambda m, r: binary_dilation(m, np.ones((2 * r + 1, 2 * r + 1), bool))  # noqa: E731
    for f in frames:
        m = instance[f] == oid
        ring = grow(m, RING_GAP_PX + RING_WIDTH_PX) & ~grow(m, RING_GAP_PX)
        mean = rgb[f][ring].mean(0)
        x = rgb[f][m] - mean
        out[f][m] = np.clip(np.round(mean + margin * MIN_CONTRAST / np.sqrt((x * x).mean(0)).max() * x), 0, 255)
    return out


def test_a_variant_answer_never_rests_on_a_faint_object_being_absent():
    """Issue 30's ep0000001-fog-4/first_appearance-25, reduced: the fog video showed the stool
    faintly (not discernible by the pipeline's test, undecided by the auditor's) in the frames
    before the refrigerator appeared; the variant counted it absent there and shipped 'the
    refrigerator appears first', which the auditor (and a viewer) could not confirm. Here, on a
    real tiny episode, object x (seen first) is made faint in the frames up to where y appears:
    counted absent there (the old rule) the program answers y and the auditor disagrees; counted
    as a glimpse (the rule now) the variant abstains and the auditor agrees."""
    from synth.audit.dataset import Clean, audit_sample
    from synth.backends.registry import open_renderer
    from synth.core.evidence import with_evidence
    from synth.core.records import QA
    from synth.degradations.base import FAINT_MARGIN, Output, Source, judge, recount
    from synth.flows.episode import shoot_episode
    from synth.programs.generate import reanswer
    from synth.programs.sandbox import SandboxPool
    from synth.programs.scene_api import SceneAPI
    from synth.storage.media import decode_mp4, encode_gt, encode_mp4
    from tests.conftest import tiny_config

    renderer = open_renderer(tiny_config().renderer)
    try:
        _, ep, buf = shoot_episode(tiny_config(episodes=1, frames=8), 0, renderer, {})
    finally:
        renderer.close()
    ep = with_evidence(ep, buf.depth, buf.instance)
    api, n = SceneAPI(ep), len(ep.frames)
    unique = [o.id for o in ep.scene.objects if [p.description for p in ep.scene.objects].count(o.description) == 1]
    seen = [o for o in unique if api.seen(o)]
    # x seen first; y appears after it and z after y; x is seen again after y appears
    x, y, z = next(
        (x, y, z)
        for x in seen
        for y in seen
        for z in seen
        if api.first_glimpsed(x) == api.first_seen(x) < api.first_glimpsed(y)
        and api.first_seen(y) < api.first_glimpsed(z)
        and sum(api.is_visible(x, f) for f in range(api.first_seen(y) + 1, n)) >= ep.visibility_rule.min_frames
    )
    family = FAMILIES["first_appearance"]
    names = [ep.scene.object(o).description for o in (x, y, z)]
    item = QA(
        id="first_appearance-0", family=family.id, program_id=family.program_id, question="which first?",
        slots={"a": x, "b": y, "c": z}, answer=names[0], choices=names, answer_type=family.answer_type,
    )  # fmt: skip
    faint = list(range(api.first_seen(y) + 1))
    rgb = _faded(buf.rgb, buf.instance, x, faint, 0.75)
    mp4 = encode_mp4(rgb, ep.fps)
    delivered, clean_video = decode_mp4(mp4), decode_mp4(encode_mp4(buf.rgb, ep.fps))
    src, ids = Source(ep, buf, list(range(n))), buf.instance.astype(np.int32)
    out = Output(rgb, {}, ids, ids)
    (judged,) = [j for j in judge(src, out, delivered) if j.id == x]
    assert all(FAINT_MARGIN <= judged.margin[f] < 1.0 for f in faint), judged.margin  # faint, as the stool was
    now = recount(src, out, delivered)
    absent = [  # the old rule: not discernible, so not there
        v.model_copy(update={"pixels": [0 if f in faint else p for f, p in enumerate(v.pixels)]}) if v.id == x else v
        for v in now
    ]
    size = int(buf.instance.max()) + 1
    clean = Clean(np.stack([np.bincount(f.ravel(), minlength=size) for f in buf.instance]), frozenset([item.id]))
    with SandboxPool(workers=1) as pool:
        assert reanswer(ep, [item], pool)[0].answer == names[0]  # the clean video: x first
        findings = {}
        for rule, visibility in (("absent", absent), ("glimpse", now)):
            variant = with_evidence(ep.model_copy(update={"visibility": visibility}), buf.depth, buf.instance)
            (answered,) = reanswer(variant, [item], pool)
            meta = {"key": f"faint-{rule}", "episode": variant.model_dump(mode="json"), "degradation": {"type": "fog"}}
            meta["questions"] = [answered.model_dump(mode="json")]
            shown = discernible(delivered, clean_video, buf.instance, meta)
            findings[rule] = (answered, *audit_sample(meta, encode_gt(buf.depth, buf.instance), shown, clean))
    answered, finding = findings["absent"]
    assert answered.answer == names[1] and not finding.agrees and finding.audited == names[0], finding.line()
    answered, finding = findings["glimpse"]
    assert answered.abstain and finding.agrees, finding.line()


def _samples(root: Path) -> list:
    manifest = json.loads((root / "manifest.json").read_text())
    return [s for shard in manifest["shards"] for s in read_tar(root / shard["path"])]


def _rewrite(src: Path, dst: Path, edit) -> Path:
    """A copy of a finished dataset whose sample JSONs went through ``edit(meta)``."""
    config = json.loads((src / "run.json").read_text())
    writer = DatasetWriter(dst, config, samples_per_shard=64)
    writer.open()
    keys = []
    for s in _samples(src):
        meta = json.loads(s.files["json"])
        edit(meta)
        s.files["json"] = json.dumps(meta, sort_keys=True).encode()
        writer.stage(s)
        keys.append(s.key)
    writer.finalize(keys)
    return dst


def _flip(meta: dict) -> None:
    """Give every answered item another of its options (what a wrong label looks like)."""
    for q in meta["questions"]:
        others = [c for c in q["choices"] if c not in (q["answer"], ABSTAIN)]
        if q["answer_type"] == "yes/no" and not q["abstain"]:
            q["answer"] = "no" if q["answer"] == "yes" else "yes"
        elif not q["abstain"] and others:
            q["answer"] = others[0]
        elif q["answer_type"] == "number" and not q["abstain"] and q["value"]:
            q["value"] = q["value"] * 1.5 + 1
            q["answer"] = f"{q['value']:g}"
        elif q["answer_type"] in GROUNDED and not q["abstain"]:
            q["answer"] = json.dumps(_misplaced(q["answer_type"], json.loads(q["answer"])))


def _misplaced(answer_type: str, value):
    """Grounded coordinates somewhere else: a box or point moved by more than its size, every
    object of a map in one cell."""
    if answer_type == "cognitive map":
        return {k: [[0, 0]] for k in value}
    if answer_type == "2d box":
        w = value[2] - value[0]
        return [value[0] + w + 20, value[1], value[2] + w + 20, value[3]]
    if answer_type == "2d point":
        return [value[0] + 40, value[1] + 40]
    return [value[0] + 1.0 + (value[3] if len(value) > 3 else 0.0), *value[1:]]


def test_the_auditor_agrees_with_a_run_and_catches_wrong_answers(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    findings = audit_dataset(root)
    assert findings and all(f.agrees for f in findings), [f.line() for f in findings if not f.agrees]
    wrong = audit_dataset(_rewrite(root, tmp_path / "wrong", _flip))
    flipped = [f for f in wrong if f.why != "abstention" and f.why != "a named object is not seen"]
    missed = [f for f in flipped if f.agrees]
    assert flipped and len(missed) <= 0.01 * len(flipped), [f.line() for f in missed]


def test_verify_evidence_prints_the_items_and_exits_non_zero(tiny_dataset, tmp_path):
    root, _ = tiny_dataset
    ok = subprocess.run([SYNTH, "verify", str(root), "--evidence"], capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 disagreement(s)" in ok.stdout and "evidence audit" in ok.stdout
    bad = _rewrite(root, tmp_path / "bad", _flip)
    out = subprocess.run([SYNTH, "verify", str(bad), "--evidence"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 1
    lines = [line for line in out.stdout.splitlines() if line.startswith("NOT IN THE VIDEO")]
    assert lines and "shipped" in lines[0] and "video shows" in lines[0]


@pytest.mark.slow
def test_every_family_agrees_with_the_auditor_on_100_draft_episodes(tmp_path):
    """The issue's bar: >= 99% of emitted items per family on >= 100 draft episodes (sat-dynamic
    settings, 320x240, 16 frames)."""
    cfg = RunConfig.from_options(
        episodes=100,
        seed=2024,
        quality="draft",
        dynamic_share=0.75,
        samples_per_shard=64,
        debias=False,
        assets="primitives",
        width=320,
        height=240,
    )
    out = tmp_path / "ds"
    run(cfg, out)
    rates = agreement(audit_dataset(out))
    print("auditor agreement per family:", {f: f"{ok}/{n}" for f, (ok, n) in rates.items()})
    for family in FAMILIES:
        if family in NEEDS_A_SURVEY:
            continue
        ok, n = rates.get(family, (0, 0))
        assert n >= 5, f"{family}: only {n} items in 100 episodes"
        assert ok >= 0.99 * n, f"{family}: the video supports {ok} of {n} items"


@pytest.mark.slow
def test_degraded_variants_agree_with_the_auditor(tmp_path):
    """Every degradation type at severities 1, 3 and 5 on 20 episodes (8 frames at 160x120 to fit
    the suite's budget): what each variant asks or abstains on matches what its delivered video
    shows, both ways (nothing plainly visible abstained on, nothing that cannot be made out asked)."""
    from synth.degradations import DEGRADATIONS

    spec = ",".join(f"{kind}:{severity}" for kind in DEGRADATIONS for severity in (1, 3, 5))
    cfg = RunConfig.from_options(
        episodes=20, seed=31, quality="draft", frames=8, width=160, height=120, min_pixels=30,
        degradations=spec, samples_per_shard=128, assets="primitives",
    )  # fmt: skip
    out = tmp_path / "deg"
    run(cfg, out)
    findings = [f for f in audit_dataset(out) if "-" in f.key]  # the degraded samples
    assert len({f.key for f in findings}) == 20 * len(DEGRADATIONS) * 3
    rates = agreement(findings)
    print("auditor agreement on degraded variants:", {f: f"{ok}/{n}" for f, (ok, n) in rates.items()})
    wrong = [f for f in findings if not f.agrees]
    for family, (ok, n) in rates.items():
        assert ok >= 0.99 * n, (family, [f.line() for f in wrong if f.family == family][:5])
    kinds = {k: [f for f in findings if f"-{k}-" in f.key] for k in DEGRADATIONS}
    for kind, items in kinds.items():
        assert sum(f.agrees for f in items) >= 0.99 * len(items), (kind, [f.line() for f in items if not f.agrees][:5])
