"""Issue #34, item 3: minimal pairs. With ``--minimal-pairs`` each episode is rendered once more with
one object moved (mirrored across a frame's view and turned half a turn); the items whose answer
flips, asked of both renders, ship in a linked ``<key>-pair`` sample and in the clean sample."""

from __future__ import annotations

import json

import pytest

from synth.audit.dataset import audit_dataset
from synth.core.records import PAIR
from synth.flows.run import run
from synth.planning.pairs import moved, moves
from synth.storage.dataset import iter_samples
from tests.cheap import cheap_episode
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    """A draft run of 8 episodes with minimal pairs: (folder, sample JSON by key)."""
    out = tmp_path_factory.mktemp("pairs") / "ds"
    cfg = tiny_config(episodes=8, seed=7, frames=12, width=224, height=168, minimal_pairs=True, debias=False)
    run(cfg, out)
    return out, {json.loads(s.files["json"])["key"]: json.loads(s.files["json"]) for s in iter_samples(out)}


def test_every_pair_flips_and_is_linked_both_ways(paired):
    _, metas = paired
    pairs = {k: m for k, m in metas.items() if m["variant"] == PAIR}
    assert len(pairs) >= 2, "at least a quarter of the episodes make a pair"
    for key, meta in pairs.items():
        clean = metas[key.removesuffix(f"-{PAIR}")]
        change = meta["change"]
        assert {"moved", "from", "to", "turn_deg"} <= set(change)
        moved_obj = next(o for o in meta["episode"]["scene"]["objects"] if o["id"] == change["moved"])
        assert moved_obj["box"]["center"] == pytest.approx(change["to"], abs=1e-3)
        assert all(
            p["position"] == pytest.approx(change["to"], abs=1e-3)
            for f in meta["episode"]["frames"]
            for p in f["object_poses"]
            if p["id"] == change["moved"]
        )
        by_id = {q["id"]: q for q in clean["questions"]}
        assert meta["questions"]
        for q in meta["questions"]:
            twin = by_id[q["id"]]
            assert (twin["question"], twin["choices"], twin["slots"]) == (q["question"], q["choices"], q["slots"])
            assert twin["answer"] != q["answer"] and not q["abstain"] and not twin["abstain"]
            assert q["pair"] == clean["key"] and twin["pair"] == key
            assert q["trace"] and twin["trace"], "each side has its own reasoning"
    linked = [q for m in metas.values() if m["variant"] == "clean" for q in m["questions"] if q.get("pair")]
    assert len(linked) == sum(len(m["questions"]) for m in pairs.values())


def test_both_sides_of_every_pair_agree_with_the_auditor(paired):
    out, metas = paired
    findings = [f for f in audit_dataset(out) if f.item.startswith("pair-")]
    assert len(findings) == 2 * sum(len(m["questions"]) for m in metas.values() if m["variant"] == PAIR)
    assert all(f.agrees for f in findings), [f.line() for f in findings if not f.agrees]


def test_moves_keep_the_object_in_its_room_and_clear_of_the_others():
    """Every proposed move lands the object's footprint inside a room and clear of the other
    footprints, at least half a metre from where it stood, in every frame and the rest pose."""
    from shapely.geometry import Polygon

    from synth.core.geometry import footprint
    from synth.planning.pairs import CLEARANCE, LEAST_MOVE

    found = 0
    for seed in range(6):
        ep = cheap_episode(seed, frames=12, width=224, height=168, dynamic=False)
        for move in moves(ep):
            after = moved(ep, move)
            box = after.scene.object(move.object_id).box
            outline = footprint(box)
            assert any(Polygon(r.footprint).contains(outline) for r in after.scene.rooms)
            assert not any(
                outline.distance(footprint(o.box)) < CLEARANCE - 1e-6
                for o in after.scene.objects
                if o.id != move.object_id
            )
            assert sum((a - b) ** 2 for a, b in zip(move.start, move.position)) ** 0.5 >= LEAST_MOVE
            assert {tuple(after.pose(move.object_id, f).position) for f in range(len(after.frames))} == {move.position}
            found += 1
    assert found >= 6


def test_the_card_counts_the_pairs(paired):
    out, metas = paired
    card = (out / "README.md").read_text()
    assert "## Minimal pairs" in card and "| variant | samples |" in card
    pairs = sum(len(m["questions"]) for m in metas.values() if m["variant"] == PAIR)
    table = card.split("## Minimal pairs")[1].split("\n## ")[0].splitlines()
    rows = [ln for ln in table if ln.startswith("| ") and not ln.startswith("| family")]
    assert sum(int(r.split("|")[2]) for r in rows) == pairs
