"""synth export: every record valid against a JSON schema written from its format's documentation,
every referenced file present and decodable, and the answers read back equal to the dataset's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from PIL import Image

from synth.cli.main import main
from synth.core.records import GROUNDED
from synth.evaluation.answers import parse
from synth.evaluation.items import iter_metas, read_items
from synth.evaluation.scorer import qa_score
from synth.exports.export import export_dataset
from synth.exports.formats import FORMATS, RECORDS_FILE
from synth.exports.recheck import recheck
from synth.exports.sampling import choose
from synth.flows.run import run
from synth.storage.media import decode_mp4
from tests.conftest import tiny_config

SCHEMAS = Path(__file__).resolve().parents[1] / "synth" / "exports" / "schemas"
FRAMES = 6


@pytest.fixture(scope="module")
def foggy(tmp_path_factory):
    """A tiny dataset with a clean and a fog variant of each episode (abstention items in every
    family that names objects, so that every kind of answer is exported)."""
    out = tmp_path_factory.mktemp("foggy") / "ds"
    run(tiny_config(episodes=2, degradations="fog:2", abstention_share=1.0), out)
    return out


def _validator(fmt: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{fmt}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "$comment" in schema and ("README" in schema["$comment"] or ".py" in schema["$comment"])
    return jsonschema.Draft202012Validator(schema)


def _media(fmt: str, rec: dict) -> tuple[list[str], str]:
    """The record's media paths and the token each one needs in the conversation."""
    if fmt == "sharegpt":
        return (rec["videos"], "<video>") if "videos" in rec else (rec["images"], "<image>")
    if "video" in rec:
        return [rec["video"]], "<image>" if fmt == "llava-video" else "<video>"
    return rec["image"], "<image>"


def _check_records(out: Path, fmt: str, frames: int | None) -> list[dict]:
    records = json.loads((out / RECORDS_FILE[fmt]).read_text())
    validator = _validator(fmt)
    decoded: set[str] = set()
    for rec in records:
        errors = sorted(validator.iter_errors(rec), key=str)
        assert not errors, (rec, errors[0].message)
        paths, token = _media(fmt, rec)
        conv = rec["conversations"]
        assert [t["from"] for t in conv] == ["human", "gpt"] * (len(conv) // 2)
        human = "".join(t["value"] for t in conv if t["from"] == "human")
        assert human.count(token) == len(paths)  # one placeholder per medium
        assert conv[0]["value"].startswith(token)  # and they lead the first turn
        for rel in paths:
            path = out / rel
            assert not Path(rel).is_absolute() and path.is_file(), rel
            if rel in decoded:
                continue
            decoded.add(rel)
            if rel.endswith(".mp4"):
                assert len(decode_mp4(path.read_bytes())) == tiny_config().video.frames
            else:
                with Image.open(path) as im:
                    im.load()
                    assert im.format == "JPEG" and im.size == (160, 120)
        if frames:
            assert len(paths) == frames
    if fmt == "sharegpt":
        info = json.loads((out / "dataset_info.json").read_text())["synth"]
        assert info["file_name"] == RECORDS_FILE[fmt] and info["formatting"] == "sharegpt"
        assert info["columns"]["messages"] == "conversations"
        assert info["columns"].get("images" if frames else "videos")
    return records


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("per_sample,frames", [(False, None), (True, 4)])
def test_export_validates_and_reads_back_the_dataset_answers(foggy, tmp_path, fmt, per_sample, frames):
    out = tmp_path / "export"
    report = export_dataset(foggy, fmt, out, per_sample=per_sample, frames=frames)
    items = read_items(foggy)
    records = _check_records(out, fmt, frames)
    # the items the export keeps: with 4 of 6 frames, those whose evidence is shown (tests/test_field_exports.py)
    kept = {
        f"{meta.key}/{q.id}"
        for sample, meta in iter_metas(foggy)
        for q in recheck(meta, sample.files, choose(fmt, 6, meta.episode.video.fps, frames))[0]
    }
    assert len(kept) + report.summary["dropped"]["total"] == len(items)
    assert (report.summary["dropped"]["total"] > 0) == bool(frames)
    items = [i for i in items if i.id in kept]
    assert report.records == len(records) == (4 if per_sample else len(items))
    # round trip: every gpt turn parses back to the dataset's answer for its question, in order
    by_sample: dict[str, list] = {}
    for item in items:
        by_sample.setdefault(item.key, []).append(item)
    expected = [i for key in by_sample for i in by_sample[key]]
    replies = [t["value"] for rec in records for t in rec["conversations"] if t["from"] == "gpt"]
    assert len(replies) == len(expected)
    kinds = set()
    for item, reply in zip(expected, replies):
        got = parse(reply, item.qa)
        if item.qa.abstain:
            assert got.abstain, (item.id, reply)
            kinds.add("abstention")
        elif item.qa.answer_type == "number":
            assert got.number == pytest.approx(item.qa.value, abs=1e-9), (item.id, reply)
            assert item.qa.unit == "" or reply.split()[-1] in ("m", "cm", "degrees", "m²")
            kinds.add("number")
        elif item.qa.answer_type in GROUNDED:  # the answer's JSON, read back as it scores
            assert json.loads(reply) == json.loads(item.qa.answer) and qa_score(item.qa, reply)[2] == 1.0, reply
            kinds.add("grounded")
        else:
            assert got.text == item.qa.answer and not got.abstain, (item.id, reply)
            if item.qa.choices:
                assert re.match(r"^[A-Z]\. ", reply), reply  # the letter plus the option's text
            kinds.add(item.qa.answer_type)
    assert {"number", "multiple choice", "object", "yes/no", "abstention", "grounded"} <= kinds
    if not per_sample:
        assert {r["id"] for r in records if "id" in r} <= {i.id for i in items}


def test_variants_filter_and_overwrite_through_the_command_line(foggy, tmp_path, capsys):
    out = tmp_path / "clean"
    assert main(["export", str(foggy), "--format", "llava-video", "--out", str(out), "--variants", "clean"]) == 0
    records = json.loads((out / "llava_video.json").read_text())
    assert records and all("-fog-" not in r["id"] for r in records)
    assert sorted(p.name for p in (out / "videos").iterdir()) == ["ep0000000.mp4", "ep0000001.mp4"]
    again = ["export", str(foggy), "--format", "llava-video", "--out", str(out), "--variants", "fog"]
    assert main(again) == 2
    assert "already holds a finished export" in capsys.readouterr().err
    assert main([*again, "--overwrite"]) == 0
    records = json.loads((out / "llava_video.json").read_text())
    assert records and all("-fog-2/" in r["id"] for r in records)
    assert main(["export", str(foggy), "--format", "qwen-vl", "--out", str(tmp_path / "x"), "--variants", "snow"]) == 2
    assert "no questions in the variants asked for" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing"), "--format", "qwen-vl", "--out", str(tmp_path / "y")]) == 2
    assert "not a finished synth dataset" in capsys.readouterr().err
