"""synth eval: free-text answers parsed, scored with the field's metrics (accuracy, VSI-Bench's MRA,
abstention precision/recall), broken down, charted; and asked of an OpenAI-compatible endpoint
(a stand-in server: no vision model runs here)."""

from __future__ import annotations

import json
import random
from collections import defaultdict

import pytest
from PIL import Image

from synth.cli.main import main
from synth.evaluation.answers import parse
from synth.evaluation.chart import figure
from synth.evaluation.items import read_items
from synth.evaluation.metrics import mean_relative_accuracy
from synth.evaluation.prompt import ABSTENTION_SENTENCE, expected_reply, prompt
from synth.evaluation.scorer import Report, score
from synth.programs.family import ABSTAIN, QA
from tests.standin_vision import StandInVisionServer


def _qa(**kw) -> QA:
    base = dict(id="q-0", family="f", program_id="f@0", question="Which?", slots={}, answer="left")
    return QA(**{**base, **kw})


def test_mean_relative_accuracy_worked_example():
    # VSI-Bench: MRA = mean over theta in {0.50, 0.55, ..., 0.95} of [|y_hat - y| / y < 1 - theta].
    # 1.3 m for 1.0 m is 30% off: 0.30 < 1 - theta holds for theta = 0.50, 0.55, 0.60, 0.65 (0.5, 0.45,
    # 0.4, 0.35) and not for 0.70 (0.30 is not below 0.30) nor above: 4 of 10 thresholds.
    assert mean_relative_accuracy(1.3, 1.0) == pytest.approx(0.4)
    assert mean_relative_accuracy(0.7, 1.0) == pytest.approx(0.4)
    assert mean_relative_accuracy(3.9, 3.0) == pytest.approx(0.4)  # 30% of 3 m, also exact
    assert mean_relative_accuracy(1.06, 1.0) == pytest.approx(0.9)  # 6% off: all but theta = 0.95
    assert mean_relative_accuracy(2.0, 2.0) == 1.0
    assert mean_relative_accuracy(4.0, 2.0) == 0.0
    assert mean_relative_accuracy(None, 2.0) == 0.0


def test_free_text_replies_are_read_as_the_field_reads_them():
    mc = _qa(answer="left", choices=["right", "left", ABSTAIN], answer_type="multiple choice")
    for reply in ("B", "(B)", "B. left", "b) left", "The answer is B.", "Answer: B", "left", "It is on the left."):
        assert parse(reply, mc).text == "left", reply
    for reply in ("right or left", "A chair", ""):
        assert not parse(reply, mc).understood, reply
    for reply in ("C", "C. cannot be determined from the video", "I can't tell from these frames."):
        assert parse(reply, mc).abstain, reply
    obj = _qa(
        answer="red chair", choices=["blue chair", "red chair", "red chair cushion", ABSTAIN], answer_type="object"
    )
    assert parse("the red chair cushion", obj).text == "red chair cushion"  # the longest of nested options
    assert parse("It's the red chair.", obj).text == "red chair"
    yn = _qa(answer="yes", answer_type="yes/no")
    assert parse("Yes, it is.", yn).text == "yes" and parse("no", yn).text == "no"
    assert parse(ABSTENTION_SENTENCE, yn).abstain
    n = _qa(answer="3.3", value=3.3, answer_type="number", unit="m")
    cases = {"3.3": 3.3, "about 3.3 m": 3.3, "330 cm": 3.3, "three metres": 3.0, "2,5 meters": 2.5, "10 ft": 3.048}
    for reply, value in cases.items():
        assert parse(reply, n).number == pytest.approx(value), reply
    assert parse("Unknown.", n).abstain and parse("no idea", n).number is None
    deg = _qa(answer="17", value=17.0, answer_type="number", unit="deg")
    assert parse("17°", deg).number == 17 and parse("turned in 2 steps, 30 degrees", deg).number == 2
    assert prompt(mc).splitlines()[1:4] == ["Options:", "A. right", "B. left"]
    assert expected_reply(mc) == "B. left" and expected_reply(n) == "3.3 m"


def _chance(items) -> float:
    vals = [1 / (len(i.qa.choices) - (0 if i.qa.abstain else 1)) for i in items if i.qa.choices]
    return sum(vals) / len(vals)


@pytest.fixture(scope="module")
def abstaining(tmp_path_factory):
    """A tiny dataset with abstention items in every family that names objects."""
    from synth.flows.run import run
    from tests.conftest import tiny_config

    out = tmp_path_factory.mktemp("abstaining") / "ds"
    run(tiny_config(abstention_share=1.0), out)
    return out


def test_own_answers_score_100(abstaining):
    items = read_items(abstaining)
    own = score(items, {i.id: expected_reply(i.qa) for i in items})
    assert own.score == 1.0 and own.overall.accuracy == 1.0 and own.overall.mra == 1.0
    assert own.abstention.precision == own.abstention.recall == 1.0 and own.abstention.expected > 0
    assert own.overall.unanswered == own.missing == 0
    assert set(own.tags) >= {"static", "dynamic", "temporal", "camera", "metric"}


def test_shuffled_answers_score_near_chance(tiny_dataset):
    """The same replies, dealt to other questions of the same family: near chance."""
    items = read_items(tiny_dataset[0])
    rng, by_family, shuffled = random.Random(0), defaultdict(list), {}
    for i in items:
        by_family[i.qa.family].append(i)
    for group in by_family.values():
        replies = [expected_reply(i.qa) for i in group]
        rng.shuffle(replies)
        shuffled.update({i.id: r for i, r in zip(group, replies)})
    worse = score(items, shuffled)
    choice = [i for i in items if i.qa.choices]
    hits = [score([i], shuffled).overall.score for i in choice]
    assert abs(sum(hits) / len(hits) - _chance(choice)) < 0.15
    assert worse.overall.score < 0.65 and worse.overall.mra < 0.7  # (one-item families cannot be shuffled)


def test_eval_command_writes_table_report_and_chart(tiny_dataset, tmp_path, capsys):
    root = tiny_dataset[0]
    items = read_items(root)
    preds = tmp_path / "p.jsonl"
    lines = [{"id": i.id, "answer": expected_reply(i.qa)} for i in items[1:]]  # one missing
    preds.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["eval", str(root), "--predictions", str(preds)]) == 0
    out = capsys.readouterr().out
    assert "per family" in out and "abstention: precision" in out and "1 without a prediction" in out
    report = Report.model_validate_json((tmp_path / "p.report.json").read_text())
    assert report.items == len(items) and report.missing == 1
    with Image.open(tmp_path / "p.png") as png:
        assert png.format == "PNG" and png.size[0] > 800
    bars = figure(report).axes[0].patches
    assert len(bars) == len(report.families) == len({i.qa.family for i in items})
    assert [round(b.get_height(), 6) for b in bars] == [round(100 * g.score, 6) for g in report.families.values()]
    preds.write_text("not json\n")
    assert main(["eval", str(root), "--predictions", str(preds)]) == 2
    assert "p.jsonl:1: not JSON" in capsys.readouterr().err


def test_eval_asks_an_openai_compatible_endpoint_and_resumes(tiny_dataset, tmp_path, capsys):
    """Against a STAND-IN server that answers from a fixed table (no vision model runs here)."""
    root = tiny_dataset[0]
    items = read_items(root)
    table = {prompt(i.qa): expected_reply(i.qa) for i in items}
    preds = tmp_path / "eval" / "p.jsonl"
    first = items[: len(items) // 3]
    preds.parent.mkdir()
    preds.write_text("".join(json.dumps({"id": i.id, "answer": table[prompt(i.qa)]}) + "\n" for i in first))
    args = ["eval", str(root), "--model", "standin-vision", "--predictions", str(preds), "--frames", "3"]
    with StandInVisionServer(table, fail_first=2) as server:
        assert main([*args, "--base-url", server.base_url, "--concurrency", "3", "--size", "64"]) == 0
        asked = len(server.requests)
        assert asked == len(items) - len(first)  # only what the file did not answer; 503s were retried
        body = server.requests[0]
        images = [p for p in body["messages"][-1]["content"] if p["type"] == "image_url"]
        assert len(images) == 3 and body["temperature"] == 0.0
        assert main([*args, "--base-url", server.base_url]) == 0  # rerun: nothing left to ask
        assert len(server.requests) == asked
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(i.id for i in items)  # each exactly once
    report = Report.model_validate_json((tmp_path / "eval" / "p.report.json").read_text())
    expected = score(items, {r["id"]: r["answer"] for r in rows})
    assert report.score == expected.score and report.missing == 0
    out = capsys.readouterr().out
    assert f"{asked} questions asked" in out and f"0 questions asked, {len(items)} already answered" in out
    assert main(["eval", str(root), "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "--base-url needs --model" in capsys.readouterr().err
