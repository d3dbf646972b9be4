"""Rewards for reinforcement learning (issue #32, item 3): ``synth.reward`` is the scorer's value of
a reply plus an optional format term; ``synth.Rewards`` looks items up by id and is called the way
TRL's own ``GRPOTrainer`` calls a reward function (one training step of it, in .venv-oracles, is the
oracle); verl's ``compute_score`` convention; ``synth reward`` over a predictions file."""

from __future__ import annotations

import json

import pytest

import synth
from synth.cli.main import main
from synth.evaluation.items import Item, read_items
from synth.evaluation.prompt import expected_reply
from synth.evaluation.reward import Rewards, compute_score, ground_truth, reply_text, reward
from synth.evaluation.scorer import score_item
from synth.programs.family import ABSTAIN, QA
from tests.field import run_oracle
from tests.standin_model import wrong_reply


def _qa(**kw) -> QA:
    base = dict(id="q-0", family="f", program_id="f@0", question="How many?", slots={}, answer="3")
    return QA(**{**base, **kw})


COUNT = _qa(answer_type="number", answer="3", value=3.0)
SIDE = _qa(id="q-1", answer_type="multiple choice", answer="left", choices=["left", "right", ABSTAIN])


@pytest.mark.parametrize(
    ("qa", "reply", "value"),
    [
        (COUNT, "3", 1.0),
        (COUNT, "Answer: 3", 1.5),  # marked and read: the format term
        (COUNT, "<think>maybe 5</think>\n\\boxed{4}", 0.4 + 0.5),  # MRA of 4 for 3 (33% off: 4 of 10 thresholds)
        (COUNT, "Answer: many", 0.0),  # marked, but no number: no format term either
        (COUNT, "<think>3 or 4", 0.0),  # cut off while reasoning
        (COUNT, None, 0.0),
        (SIDE, "The answer is left", 1.5),
        (SIDE, "right", 0.0),
        (SIDE, "Answer: right", 0.5),  # wrong but well formed
    ],
)
def test_reward_is_the_scorers_value_plus_the_format_term(qa, reply, value):
    item = Item("ep/q", "ep", 0, "clean", qa)
    assert reward(item, reply, format_weight=0.5) == pytest.approx(value)
    assert reward(qa, reply) == pytest.approx(score_item(item, reply).score)
    assert synth.reward is reward


def test_rewards_looks_items_up_by_id(tiny_dataset):
    """Called as TRL calls it (completions, the dataset's columns as lists, TRL's own extras):
    each item's own answer earns 1, a conversational completion is read from its last message, and
    a batch without ids or with an id the dataset lacks is refused."""
    items = read_items(tiny_dataset[0])
    rewards = Rewards(tiny_dataset[0])
    assert len(rewards.items) == len(items)
    own = [expected_reply(i.qa) for i in items]
    ids = [i.id for i in items]
    assert rewards(completions=own, id=ids, prompts=["?"] * len(ids), completion_ids=[[]] * len(ids)) == [1.0] * len(
        ids
    )
    chat = [[{"role": "assistant", "content": [{"type": "text", "text": r}]}] for r in own]
    assert rewards(completions=chat, id=ids, trainer_state=None) == [1.0] * len(ids)
    with pytest.raises(ValueError, match="'id' column"):
        rewards(completions=own)
    with pytest.raises(ValueError, match="not in the dataset"):
        rewards(completions=own[:1], id=["ep9999999/nothing-0"])


def test_verl_compute_score_reads_the_question_from_its_ground_truth():
    for qa, reply in ((COUNT, "Answer: 4"), (SIDE, "left")):
        expected = reward(qa, reply, 0.25)
        assert compute_score("synth", reply, ground_truth(qa), {"format_weight": 0.25}) == expected


@pytest.mark.parametrize("conversational", [False, True])
def test_trls_grpo_trainer_calls_the_reward_function(conversational):
    """One step of TRL's own GRPOTrainer (a tiny random model whose words are digits and "Answer:",
    so its completions read as numbers) with synth's function: TRL passes each completion with its
    row's id, and logs as the step's mean reward the mean of what synth returned, which is
    ``synth.reward`` of each completion recomputed here."""
    items = [
        Item("ep0000000/object_counting-1", "ep0000000", 0, "clean", COUNT),
        Item(
            "ep0000001/object_counting-2",
            "ep0000001",
            1,
            "clean",
            COUNT.model_copy(update={"answer": "5", "value": 5.0}),
        ),
    ]
    payload = {
        "items": [
            {"id": i.id, "key": i.key, "index": i.index, "variant": i.variant, "qa": i.qa.model_dump(mode="json")}
            for i in items
        ],
        "vocabulary": ["Answer:", "1", "2", "3", "4", "5", "6"],
        "format_weight": 0.5,
        "conversational": conversational,
    }
    out = run_oracle("trl_grpo.py", payload)
    by_id = {i.id: i for i in items}
    (call,) = out["calls"]
    assert sorted(call["id"]) == sorted(i.id for i in items for _ in range(2))  # 2 generations per prompt
    assert {"completion_ids", "trainer_state"} <= set(call["keys"])
    expected = [reward(by_id[i], reply_text(c), 0.5) for i, c in zip(call["id"], call["completions"], strict=True)]
    assert out["returned"] == [pytest.approx(expected)]
    assert any(v > 0 for v in expected)  # the replies read as numbers: not a vacuous check
    assert out["logged"]["rewards/synth/mean"] == pytest.approx(sum(expected) / len(expected), abs=1e-6)
    if conversational:
        assert all(isinstance(c, list) and c[-1]["role"] == "assistant" for c in call["completions"])


def test_reward_command(tiny_dataset, tmp_path, capsys):
    root = tiny_dataset[0]
    items = read_items(root)[:5]
    preds = tmp_path / "p.jsonl"
    preds.write_text(
        "".join(json.dumps({"id": i.id, "answer": "Answer: " + expected_reply(i.qa)}) + "\n" for i in items)
    )
    out = tmp_path / "r.jsonl"
    assert main(["reward", str(root), "--predictions", str(preds), "--format-weight", "0.1", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [i.id for i in items]
    assert all(r["reward"] == pytest.approx(1.1) for r in rows)
    assert "5 replies, mean reward 1.1000" in capsys.readouterr().err
    preds.write_text(json.dumps({"id": "ep9/none-0", "answer": "3"}) + "\n")
    assert main(["reward", str(root), "--predictions", str(preds)]) == 2
    assert "1 prediction ids are not items of" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse refuses it
        main(["reward", str(root), "--predictions", str(preds), "--format-weight", "-1"])


def test_every_familys_own_answers_earn_1_and_corrupted_ones_0(tiny_dataset):
    items = read_items(tiny_dataset[0])
    families = {i.qa.family for i in items}
    assert len(families) > 10
    for i in items:
        assert reward(i, expected_reply(i.qa)) == 1.0, i.id
        assert reward(i, wrong_reply(i.qa)) == 0.0, (i.id, wrong_reply(i.qa))
