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
from synth.evaluation.endpoint import shown
from synth.evaluation.items import Item, read_items
from synth.evaluation.metrics import mean_relative_accuracy
from synth.evaluation.prompt import ABSTENTION_SENTENCE, expected_reply, prompt
from synth.evaluation.scorer import Report, score
from synth.programs.family import ABSTAIN, QA
from tests.standin_vision import StandInVisionServer


def _qa(**kw) -> QA:
    base = dict(id="q-0", family="f", program_id="f@0", question="Which?", slots={}, answer="left")
    return QA(**{**base, **kw})


def test_mean_relative_accuracy_worked_example():
    # VSI-Bench's reference (lmms-eval's vsibench mean_relative_accuracy): MRA = mean over theta in
    # linspace(0.5, 0.95, 10) of [|y_hat - y| / y <= 1 - theta], in floats. 1.3 m for 1.0 m is 30% off:
    # it counts for theta = 0.50 ... 0.70 (the error lands on 1 - 0.70): 5 of 10 thresholds.
    assert mean_relative_accuracy(1.3, 1.0) == pytest.approx(0.5)
    assert mean_relative_accuracy(0.7, 1.0) == pytest.approx(0.5)
    assert mean_relative_accuracy(3, 2) == pytest.approx(0.1)  # 50% off: only theta = 0.50
    assert mean_relative_accuracy(5, 4) == pytest.approx(0.6)  # 25% off: 0.50 ... 0.75
    assert mean_relative_accuracy(1.2, 1.0) == pytest.approx(0.7)  # 20% off: 0.50 ... 0.80
    assert mean_relative_accuracy(0.39, 0.3) == pytest.approx(0.4)  # 30% off, but in floats just above 0.30
    assert mean_relative_accuracy(1.06, 1.0) == pytest.approx(0.9)  # 6% off: all but theta = 0.95
    assert mean_relative_accuracy(2.0, 2.0) == 1.0
    assert mean_relative_accuracy(3.01, 2.0) == 0.0 and mean_relative_accuracy(4.0, 2.0) == 0.0
    # synth's extensions where the reference has no answer
    assert mean_relative_accuracy(None, 2.0) == 0.0
    assert mean_relative_accuracy(0, 0) == 1.0 and mean_relative_accuracy(0.1, 0) == 0.0
    assert mean_relative_accuracy(-1.2, -1.0) == pytest.approx(0.7) and mean_relative_accuracy(5, -1.0) == 0.0


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


def test_the_final_answer_of_a_reply_that_reasons_first_is_read():
    r"""Only the final answer counts: after </think>, the last "Answer:" line, the last \boxed{}, else
    the last line; what the reasoning mentions on the way (numbers, options, "not visible") does not."""
    n = _qa(answer="0.8", value=0.8, answer_type="number", unit="m")
    cases = {
        "<think>The table is 2 m wide ...</think> Answer: 0.8 m": 0.8,
        "<think>The table is 2 m wide.\nIt is not visible at first.</think>\n\nThe gap is 0.8 m.": 0.8,
        "The table is 2 m wide, so the gap is smaller.\nAnswer: 0.8 m\nThis is an estimate of 1 m.": 0.8,
        "Final answer: 2 m? No.\nFinal Answer: 0.8 m": 0.8,
        "**Final Answer:**\n\n**80 cm**": 0.8,
        "Roughly 2 m minus 1.2 m, so the answer is 0.8 m.": 0.8,
        r"The table is 2 m wide; the gap is $\boxed{0.8\,\text{m}}$ wide.": 0.8,
        "Between 1 and 2 m.\n\\boxed{80\\text{ cm}}": 0.8,
    }
    for reply, value in cases.items():
        assert parse(reply, n).number == pytest.approx(value), reply
    for reply in ("<think>The table is 2 m wide, so the gap", "<think>2 m</think>", "<think>2 m</think>\n<think>so"):
        assert not parse(reply, n).understood, reply  # cut off while reasoning, or nothing after it
    assert parse("<think>It could be 2 m.</think> It cannot be determined from the video.", n).abstain
    assert parse("<think>Is it unknown? No.</think> 0.8 m", n).number == pytest.approx(0.8)
    mc = _qa(answer="left", choices=["right", "left", ABSTAIN], answer_type="multiple choice")
    for reply in (
        "<think>Option A says right, but the chair is not visible from there.</think> B",
        "<think>It could be A.</think>\nAnswer: B. left",
        "A is wrong and C does not fit.\nThe answer is (B).",
        "So the correct answer is:\n\n**B. left**",
        "**Answer**: (B)",
        "Looking at frame 2, option A is the door. I think the answer is B because the chair is there.",
        r"Not A, so \boxed{B}",
        "Not A.\n\\boxed{\\text{B}}",
    ):
        assert parse(reply, mc).text == "left" and not parse(reply, mc).abstain, reply
    assert parse("<think>B? or A?</think>\nC. cannot be determined from the video", mc).abstain
    yn = _qa(answer="yes", answer_type="yes/no")
    assert parse("<think>Is it no? It is not visible in frame 1, but later.</think> Yes", yn).text == "yes"
    assert parse("<think>Yes, I see it.</think> No.", yn).text == "no"
    deg = _qa(answer="90", value=90.0, answer_type="number", unit="deg")
    assert parse(r"It turned by $90^\circ$ in 2 steps, so \boxed{90^{\circ}}", deg).number == 90


def test_numbers_with_thousands_separators_and_decimal_commas():
    cm = _qa(answer="125", value=125.0, answer_type="number", unit="cm")
    grouped = ("1,250 mm", "1 250 mm", "1\u2009250 mm", "1\u202f250 mm", "1\u00a0250 mm", "1\u2009250\u2009mm")
    for reply in grouped:
        assert parse(reply, cm).number == 125.0, ascii(reply)
    m = _qa(answer="1.25", value=1.25, answer_type="number", unit="m")
    cases = {
        "0,8 m": 0.8,
        "1,25 m": 1.25,
        "0,800 m": 0.8,  # a first group of 0 is not a thousands group
        "1,2500 m": 1.25,  # four digits after the comma: a decimal comma
        "1234,567 mm": 1.234567,  # four digits before it: a decimal comma
        "12,500 mm": 12.5,
        "1,250,000 mm": 1250.0,
        "1,250.5 mm": 1.2505,
        "1 250,5 mm": 1.2505,
        "1 250 000 mm": 1250.0,
        "130 cm": 1.3,  # converted exactly: the same float as "1.3"
        "2, 3 or 4 m": 2.0,  # a comma and a space: a list, not a number
        "-1,250 mm": -1.25,
    }
    for reply, value in cases.items():
        assert parse(reply, m).number == value, reply
    count = _qa(answer="3", value=3.0, answer_type="number", unit="")
    assert parse("3 chairs, 1 250 mm apart", count).number == 3  # the first number
    assert parse("12 345", count).number == 12345 and parse("1 2345", count).number == 1


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


def shuffled_replies(items: list[Item], rng: random.Random) -> dict[str, str]:
    """Each item's right reply (``expected_reply``), dealt at random to the items of its family."""
    by_family, shuffled = defaultdict(list), {}
    for i in items:
        by_family[i.qa.family].append(i)
    for group in by_family.values():
        replies = [expected_reply(i.qa) for i in group]
        rng.shuffle(replies)
        shuffled.update({i.id: r for i, r in zip(group, replies)})
    return shuffled


def test_shuffled_answers_score_near_chance(tiny_dataset):
    """The same replies, dealt to other questions of the same family: near chance."""
    items = read_items(tiny_dataset[0])
    shuffled = shuffled_replies(items, random.Random(0))
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
    """Against a STAND-IN server that answers from a fixed table (no vision model runs here), as a
    reasoning model would: thinking first (with numbers, options and "not visible" in it), then the
    answer. Replies are stored whole and scored on their final answer."""
    root = tiny_dataset[0]
    items = read_items(root)
    thinking = "<think>Frame 1 shows 2 m of wall; is it A? The object is not visible at first, 7 cm.</think>\n"
    # the questions as sent with 3 of the 6 frames: one about a frame names its place among them
    sent = {i.id: shown(i, 6, 3) for i in items}
    table = {prompt(sent[i.id][1].qa): f"{thinking}Final answer: {expected_reply(i.qa)}" for i in items}
    assert any(sent[i.id][1].qa.question != i.qa.question for i in items)
    preds = tmp_path / "eval" / "p.jsonl"
    first = items[: len(items) // 3]
    preds.parent.mkdir()
    preds.write_text("".join(json.dumps({"id": i.id, "answer": table[prompt(sent[i.id][1].qa)]}) + "\n" for i in first))
    args = ["eval", str(root), "--model", "standin-vision", "--predictions", str(preds), "--frames", "3"]
    with StandInVisionServer(table, fail_first=2) as server:
        flags = ["--base-url", server.base_url, "--concurrency", "3", "--size", "64", "--max-tokens", "9000"]
        assert main([*args, *flags]) == 0
        asked = len(server.requests)
        assert asked == len(items) - len(first)  # only what the file did not answer; 503s were retried
        body = server.requests[0]
        images = [p for p in body["messages"][-1]["content"] if p["type"] == "image_url"]
        assert len(images) == 3 and body["temperature"] == 0.0 and body["max_tokens"] == 9000
        assert main([*args, "--base-url", server.base_url]) == 0  # rerun: nothing left to ask
        assert len(server.requests) == asked
    rows = [json.loads(line) for line in preds.read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(i.id for i in items)  # each exactly once
    assert all(r["answer"] == table[prompt(sent[r["id"]][1].qa)] for r in rows)  # stored whole, thinking included
    assert {r.get("finish_reason") for r in rows[len(first) :]} == {"stop"}
    report = Report.model_validate_json((tmp_path / "eval" / "p.report.json").read_text())
    answers = {r["id"]: r["answer"] for r in rows}
    expected = score(items, answers)
    assert report.score == expected.score and report.missing == 0 and report.overall.unanswered == 0
    # the stand-in answers by prompt: a question asked alike of videos with other answers ("How many
    # chairs ...?" in two episodes) gets one of them; every other item scores 1
    replies = {p: {expected_reply(i.qa) for i in items if prompt(sent[i.id][1].qa) == p} for p in set(table)}
    unique = [i for i in items if len(replies[prompt(sent[i.id][1].qa)]) == 1]
    assert len(unique) >= 0.9 * len(items) and score(unique, answers).score == 1.0
    out = capsys.readouterr().out
    assert f"{asked} questions asked" in out and f"0 questions asked, {len(items)} already answered" in out
    assert main(["eval", str(root), "--base-url", "http://127.0.0.1:9/v1"]) == 2
    assert "--base-url needs --model" in capsys.readouterr().err


def test_a_question_about_one_frame_is_sent_with_that_frame_and_names_its_place():
    qa = QA(
        id="relative_depth-0",
        family="relative_depth",
        program_id="p",
        question="In frame 12, which is closer to the camera: the chair or the table?",
        slots={"a": 1, "b": 2, "frame": 11},
        answer="chair",
        choices=["chair", "table", ABSTAIN],
        answer_type="object",
    )
    item = Item("ep0/relative_depth-0", "ep0", 0, "clean", qa)
    indices, sent = shown(item, 16, 4)  # evenly: 0, 5, 10, 15; frame 11 takes 10's place
    assert indices == [0, 5, 11, 15]
    assert sent.qa.question == "In frame 3, which is closer to the camera: the chair or the table?"
    indices, sent = shown(item, 16, 16)
    assert indices == list(range(16)) and sent.qa.question.startswith("In frame 12,")
