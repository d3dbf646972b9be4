r"""Rewards for reinforcement learning on a synth dataset: the scorer's value of one reply, in the
calling conventions of TRL's GRPO trainer and of verl.

- :func:`reward` (``synth.reward``): ``reward(item, reply, format_weight=0.0) -> float``, the value
  ``synth eval`` gives the reply (``scorer.qa_score``: accuracy 0 or 1 for options, yes/no,
  objects and abstentions; VSI-Bench's Mean Relative Accuracy, 0 to 1 by steps of 0.1, for
  numbers; 0 or 1 for grounded boxes and points, the share of right object pairs for cognitive
  maps; 0 for ``None``), plus ``format_weight`` when the reply marks its final answer
  (:func:`synth.evaluation.answers.marked_answer`: "Answer: ..." or ``\boxed{...}`` after any
  closed ``<think>``) and that answer reads as one. The reward of a reply is therefore at most
  ``1 + format_weight``.
- :class:`Rewards`: a dataset's items by id (``{sample key}/{question id}``, as in predictions
  files), from a folder or ``s3://bucket/prefix``, called as TRL's ``GRPOTrainer`` calls a reward
  function: ``rewards(completions=[...], id=[...], **other_columns) -> list[float]``, one reward per
  completion; the training dataset carries the item ids in an ``id`` column (TRL passes every
  column but ``prompt`` as a keyword argument of lists). A completion is the reply text, or (a
  conversational dataset) the list of messages whose last one is the model's reply.
- :func:`compute_score`: verl's custom reward function (``custom_reward_function.path`` = this
  file's module path, ``name=compute_score``): ``compute_score(data_source, solution_str,
  ground_truth, extra_info=None) -> float``, where ``ground_truth`` is :func:`ground_truth` of the
  item (its question as JSON: no dataset lookup) and ``extra_info`` may carry ``format_weight``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from synth.evaluation.answers import marked_answer
from synth.evaluation.items import Item, read_items
from synth.evaluation.scorer import qa_score
from synth.programs.family import QA


def reward(item: Item | QA, reply: str | None, format_weight: float = 0.0) -> float:
    """The scorer's value of ``reply`` for ``item`` (an :class:`Item` or its question), plus
    ``format_weight`` where the reply marks a final answer that reads as one (module docstring)."""
    qa = item.qa if isinstance(item, Item) else item
    parsed, _, value = qa_score(qa, reply)
    if format_weight and reply is not None and parsed.understood and marked_answer(reply):
        value += format_weight
    return value


def reply_text(completion: str | Sequence[dict]) -> str:
    """The reply in one completion as TRL hands it over: the text itself, or the content of the
    last message of a conversational completion (a string, or a list of parts whose ``text`` ones
    are joined)."""
    if isinstance(completion, str):
        return completion
    if not completion:
        return ""
    content = completion[-1].get("content", "")
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


class Rewards:
    """A dataset's items by id, as a reward function for TRL's ``GRPOTrainer`` (module docstring).

    ``Rewards("out/run")``, or ``Rewards(items=[...])``; ``format_weight`` as :func:`reward`.
    Raises ``ValueError`` at the call for a batch without an ``id`` column or with ids the dataset
    does not have (a reward for the wrong question would train the wrong thing silently)."""

    __name__ = "synth"  # TRL logs a reward function's rewards under its __name__

    def __init__(self, dataset: str | Path | None = None, *, items: Sequence[Item] = (), format_weight: float = 0.0):
        from synth.storage.s3 import local_dataset

        if not items and dataset is None:
            raise ValueError("Rewards needs a dataset (folder or s3://) or items")
        self.items = {i.id: i for i in (items or read_items(local_dataset(dataset)))}
        self.format_weight = format_weight

    def __call__(self, completions: Sequence, id: Sequence[str] | None = None, **_: object) -> list[float]:
        if id is None:
            raise ValueError("the training dataset needs an 'id' column of synth item ids (SAMPLE_KEY/QUESTION_ID)")
        if len(id) != len(completions):
            raise ValueError(f"{len(completions)} completions but {len(id)} ids")
        unknown = [i for i in id if i not in self.items]
        if unknown:
            raise ValueError(f"{len(unknown)} ids not in the dataset, e.g. {unknown[0]!r}")
        return [reward(self.items[i], reply_text(c), self.format_weight) for i, c in zip(id, completions, strict=True)]


def ground_truth(item: Item | QA) -> str:
    """What verl's ``reward_model.ground_truth`` holds for an item: its question as JSON."""
    return (item.qa if isinstance(item, Item) else item).model_dump_json()


def compute_score(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> float:
    """verl's custom reward function: :func:`reward` of ``solution_str`` for the question
    ``ground_truth`` (:func:`ground_truth`); ``extra_info["format_weight"]`` sets the format term."""
    weight = float((extra_info or {}).get("format_weight", 0.0))
    return reward(QA.model_validate_json(ground_truth), solution_str, weight)
