"""Issue #34, item 4: "which view would settle it". With ``--settle-views`` each episode gets four
candidate views after its video (one that shows an object the video never shows, three that do
not); questions about that object ask which view would make them answerable, verified by running
the question's family on the video followed by each view (exactly one does) and by the auditor."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest

from synth.audit.dataset import audit_dataset
from synth.cli.main import main
from synth.core.records import WHICH_VIEW, SampleMeta
from synth.evaluation.endpoint import messages
from synth.evaluation.items import Item
from synth.exports.export import export_dataset
from synth.exports.recheck import NEEDS_VIEWS
from synth.flows.run import run
from synth.programs.generate import viewed_episode
from synth.programs.library import FAMILIES
from synth.programs.sandbox import SandboxPool, Task
from synth.programs.scene_api import SceneAPI
from synth.storage.dataset import VIEWS_FILE, iter_samples
from synth.storage.media import decode_gt, decode_views
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    """A draft run of 8 episodes with candidate views and a fog variant: (folder, samples)."""
    out = tmp_path_factory.mktemp("settle") / "ds"
    cfg = tiny_config(episodes=8, seed=7, frames=12, width=224, height=168, settle_views=True, degradations="fog:2")
    run(cfg.model_copy(update={"debias": False}), out)
    return out, list(iter_samples(out))


def _items(samples) -> list[tuple]:
    out = []
    for s in samples:
        meta = SampleMeta.model_validate_json(s.files["json"])
        out += [(s, meta, q) for q in meta.questions if q.family == WHICH_VIEW]
    return out


def test_exactly_one_view_settles_each_question_and_the_video_alone_does_not(settled):
    """Each item's own question, run on the video followed by each candidate view (held for the
    visibility rule's frames), is answerable with exactly the answer's view; on the video alone the
    object it asks about is not seen."""
    _, samples = settled
    items = _items(samples)
    assert len(items) >= 10 and {m.variant for _, m, _ in items} == {"clean"}
    answers = {q.answer for _, _, q in items}
    assert len(answers) >= 2, "the settling view's place varies"
    with SandboxPool() as pool:
        for s, meta, q in items[:12]:
            family = FAMILIES[q.slots["family"]]
            slots = {k: v for k, v in q.slots.items() if k != "family"}
            named = [slots[n] for n in family.object_slots()]
            assert not all(SceneAPI(meta.episode).seen(o) for o in named)
            _, depth, instance = decode_views(s.files[VIEWS_FILE])
            settles = []
            for k, view in enumerate(meta.views):
                longer = viewed_episode(meta.episode, *decode_gt(s.files["gt.npz"]), view, (depth[k], instance[k]))
                out = pool.run(longer.model_dump_json(), [Task(family.source, slots)])[0]
                api = SceneAPI(longer)
                settles.append(out.ok and out.value is not None and all(api.seen(o) for o in named))
            assert settles == q.settles and sum(settles) == 1, (q.id, settles, q.settles)
            assert q.answer == f"view {settles.index(True) + 1}" and q.choices == [f"view {k + 1}" for k in range(4)]


def test_the_auditor_agrees_and_catches_another_view(settled, tmp_path):
    out, samples = settled
    findings = [f for f in audit_dataset(out) if f.family == WHICH_VIEW]
    assert findings and all(f.agrees for f in findings), [f.line() for f in findings if not f.agrees]
    assert main(["verify", str(out), "--evidence"]) == 0


def test_every_sample_carries_the_views_file_and_loads_with_datasets(settled):
    out, samples = settled
    assert all(VIEWS_FILE in s.files for s in samples)
    with_views = [s for s in samples if json.loads(s.files["json"]).get("views")]
    rgb, depth, _ = decode_views(with_views[0].files[VIEWS_FILE])
    assert rgb.shape == (4, 168, 224, 3) and depth.shape == (4, 168, 224) and np.isfinite(depth).any()
    ds = datasets.load_dataset(str(out), split="train")
    assert len(ds) == len(samples) and ds.column_names.count("views.npz") == 1


def test_exports_leave_them_out_and_the_card_tables_them(settled, tmp_path):
    out, samples = settled
    report = export_dataset(out, "llava-video", tmp_path / "export")
    dropped = report.summary["dropped"]["per_family"][WHICH_VIEW]
    assert dropped == {NEEDS_VIEWS: len(_items(samples))}
    card = (out / "README.md").read_text()
    assert "## Which view would settle it" in card


def test_an_endpoint_is_sent_the_views_after_the_frames(settled):
    _, samples = settled
    s, meta, q = _items(samples)[0]
    chat = messages(
        Item(f"{meta.key}/{q.id}", meta.key, meta.index, meta.variant, q), ["f1", "f2"], ["v1", "v2", "v3", "v4"]
    )
    parts = chat[1]["content"]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    assert urls == ["f1", "f2", "v1", "v2", "v3", "v4"] and "view 1 to view 4" in json.dumps(parts)
