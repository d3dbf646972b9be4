"""Blind baselines: how well each family is answered *without the video*, and pruning of the
items a text-only model gets right until no family can be.

Measured on the clean samples' answerable items (abstentions are scored apart), per family:

- **chance**: uniform over the options (abstention excluded; yes/no 1/2). Numbers have no uniform
  chance; theirs is VSI-Bench's "chance level (frequency)": always answering the mean answer.
  Grounded boxes and points (issue #33) likewise: the other folds' mean answer, coordinate by
  coordinate (a 2D box: the mean box of the family's frames). A cognitive map's is uniform: each
  named category in a random cell (the mean score of ``MAP_DRAWS`` such maps per item, drawn with
  a fixed seed); a mean map would put every category near the centre, below what guessing scores.
- **majority**: always the answer most frequent in the other folds (for options: of the item's
  options, the one answered most often; numbers: the median; grounded answers: the median of each
  coordinate, a map each category's median cell over the maps that place it, the grid's centre
  for one they never place), per family and per template.
- **text-only**: a classifier over the question text: scikit-learn logistic regression on word
  1-2-grams of the question, of each option and their crossings, scoring every option (the
  highest-scoring one is the answer), or ridge regression of the log answer for numbers and of
  the coordinates for grounded boxes and points (maps have none: their majority answer already
  places each category the question names where that category usually is).

Scores are accuracy (MRA for numbers, ``synth.evaluation.metrics``; grounded answers as ``synth
eval`` scores them, ``synth.core.grounding``: IoU and distance hits, the map score) under 5-fold
cross-validation grouped by episode (``GroupKFold``: no scene is in both folds). A family whose
best blind score (text-only, or a majority answer where that does better) is more than
``FLAG_POINTS`` points above chance reads its answer from the question: a language-prior shortcut. ``debias`` removes
such shortcuts the way Brown et al. ("Benchmark Designers Should 'Train on the Test Set' to
Expose Exploitable Non-Visual Shortcuts", 2025) do with iterative bias pruning: repeatedly drop
the items the cross-validated blind model answers right with the highest confidence, refit,
until the family is within ``TARGET_POINTS`` of chance or ``MIN_ITEMS`` are left; a family still
flagged then is dropped whole (``dropped``). Families with fewer than ``MIN_ITEMS``
answerable items or ``MIN_EPISODES`` episodes are reported as too small to measure and left as
they are. Everything here is deterministic: the same items give the same scores and the same pruning.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from synth.core.grounding import METRICS, grounded_score, map_cells
from synth.core.records import GROUNDED, Grounding
from synth.evaluation.metrics import mean_relative_accuracy
from synth.programs.family import ABSTAIN

FOLDS = 5
MIN_ITEMS = 30
MIN_EPISODES = 10
FLAG_POINTS = 10.0
TARGET_POINTS = 5.0
MAX_ROUNDS = 40
MAP_DRAWS = 32  # random maps per cognitive-map item for its chance


@dataclass(frozen=True)
class BlindItem:
    """One answerable question of a clean sample, as a blind model sees it."""

    id: str  # question id within its episode (shared by the episode's variants)
    episode: int
    family: str
    template: str  # the family template it was asked with ("" if unknown)
    question: str
    options: tuple[str, ...]  # without the abstention; ("yes", "no") for yes/no; () for numbers, grounded answers
    answer: str
    value: float | None  # numbers
    answer_type: str = ""
    # grounded answers (issue #33): what scoring them needs
    tolerance: float = 0.0
    grounding: Grounding | None = None


def blind_items(metas: list[dict]) -> list[BlindItem]:
    """The answerable items of the clean samples among ``metas`` (sample JSON dicts), each with
    the library template it was asked with ("" for families outside the library)."""
    from synth.programs.library import FAMILIES

    matchers = {f.id: [(t, _template_pattern(t)) for t in f.templates] for f in FAMILIES.values()}
    out = []
    for m in metas:
        if m.get("variant", "clean") != "clean":
            continue
        for q in m["questions"]:
            if q.get("abstain"):
                continue
            if q["answer_type"] == "yes/no":
                opts = ("yes", "no")
            else:
                opts = tuple(c for c in q.get("choices") or () if c != ABSTAIN)
            template = next((t for t, p in matchers.get(q["family"], ()) if p.fullmatch(q["question"])), "")
            grounding = Grounding.model_validate(q["grounding"]) if q.get("grounding") else None
            given = (q["id"], m["index"], q["family"], template, q["question"], opts, q["answer"], q.get("value"))
            out.append(BlindItem(*given, q["answer_type"], q.get("tolerance", 0.0), grounding))
    return out


def _grounded(items: list[BlindItem]) -> bool:
    return items[0].answer_type in GROUNDED


def _coordinates(item: BlindItem) -> np.ndarray:
    """A grounded box's or point's answer as a vector."""
    return np.array(json.loads(item.answer), dtype=float)


def _typical(items: list[BlindItem], indices, average) -> np.ndarray | dict[str, np.ndarray]:
    """The ``average`` (``np.mean``, ``np.median``) answer of ``items[indices]``: coordinate by
    coordinate, or (cognitive maps) each category's cell over the maps that place it."""
    if items[0].answer_type != "cognitive map":
        return average(np.stack([_coordinates(items[i]) for i in indices]), axis=0)
    cells: dict[str, list] = defaultdict(list)
    for i in indices:
        for category, placed in (map_cells(json.loads(items[i].answer)) or {}).items():
            cells[category] += placed
    return {category: average(np.array(placed), axis=0) for category, placed in cells.items()}


def _grounded_score(item: BlindItem, guess: np.ndarray | dict[str, np.ndarray]) -> float:
    """``synth eval``'s score of ``guess`` (``_typical``, or a predicted vector) for ``item``; a map
    places a category the guess does not know at the grid's centre."""
    if isinstance(guess, dict):
        centre = (item.grounding.cells - 1) / 2
        named = map_cells(json.loads(item.answer)) or {}
        guess = {c: [tuple(guess.get(c, (centre, centre)))] for c in named}
    else:
        guess = tuple(float(x) for x in guess)
    return grounded_score(item.answer_type, item.answer, guess, item.tolerance, item.grounding)


def _template_pattern(template: str) -> re.Pattern:
    parts = []
    for literal, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(".+?")
    return re.compile("".join(parts), re.DOTALL)


class FamilyBaseline(BaseModel):
    family: str
    metric: str  # "accuracy", "MRA", or a grounded answer's ("IoU", "distance", "map": ``grounding.METRICS``)
    items: int  # answerable clean items measured (after pruning)
    episodes: int
    measured: bool  # enough items and episodes to cross-validate
    chance: float | None = None
    majority: float | None = None
    majority_template: float | None = None
    text_only: float | None = None
    blind_before: float | None = None  # the best blind score before pruning (None: nothing pruned)
    pruned: int = 0
    dropped: bool = False  # pruning could not separate the answers from the question: no item ships

    @property
    def blind(self) -> float | None:
        """The best blind score: text-only, or a majority answer where that does better."""
        scores = [s for s in (self.majority, self.majority_template, self.text_only) if s is not None]
        return max(scores) if scores else None

    @property
    def margin_points(self) -> float | None:
        """How far the best blind score is above chance, in points."""
        if self.blind is None or self.chance is None:
            return None
        return 100 * (self.blind - self.chance)

    @property
    def flagged(self) -> bool:
        """Answered without the video more than FLAG_POINTS above chance: a language-prior shortcut."""
        return self.margin_points is not None and self.margin_points > FLAG_POINTS


# ---------------------------------------------------------------------------------- features
def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _question_features(question: str) -> list[str]:
    w = _words(question)
    return [f"q:{x}" for x in w] + [f"q:{a}_{b}" for a, b in zip(w, w[1:])]


def _pair_features(pair: tuple[str, str]) -> list[str]:
    question, option = pair
    qw, ow = set(_words(question)), _words(option)
    return [
        *_question_features(question),
        *(f"o:{x}" for x in ow),
        *(f"o:{a}_{b}" for a, b in zip(ow, ow[1:])),
        *(f"x:{q}|{o}" for q in sorted(qw) for o in ow),
    ]


def _folds(items: list[BlindItem]) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import GroupKFold

    groups = np.array([i.episode for i in items])
    k = min(FOLDS, len(set(groups)))
    return list(GroupKFold(n_splits=k).split(np.zeros(len(items)), groups=groups))


# ---------------------------------------------------------------------------- per-item scores
def _choice_text_only(items: list[BlindItem], folds) -> tuple[np.ndarray, np.ndarray]:
    """Per item: 1/0 (the text-only answer is right) and the model's confidence in the answer it gives."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, owner, right = [], [], []
    for k, it in enumerate(items):
        for o in it.options:
            rows.append((it.question, o))
            owner.append(k)
            right.append(o == it.answer)
    owner, right = np.array(owner), np.array(right)
    correct, confidence = np.zeros(len(items)), np.zeros(len(items))
    for train, test in folds:
        tr = np.isin(owner, train)
        te = np.where(np.isin(owner, test))[0]
        if len(set(right[tr])) < 2:
            scores = np.zeros(len(te))
        else:
            vec = TfidfVectorizer(analyzer=_pair_features, sublinear_tf=True)
            x = vec.fit_transform([rows[i] for i in np.where(tr)[0]])
            model = LogisticRegression(max_iter=2000, C=10.0).fit(x, right[tr])
            scores = model.predict_proba(vec.transform([rows[i] for i in te]))[:, 1]
        by_item: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for s, r in zip(scores, te):
            by_item[int(owner[r])].append((float(s), int(r)))
        for k, scored in by_item.items():
            best_score, best_row = max(scored, key=lambda t: (t[0], -t[1]))  # ties: the first option
            correct[k] = float(right[best_row])
            confidence[k] = best_score
    return correct, confidence


def _fixed_text_only(items: list[BlindItem], folds) -> tuple[np.ndarray, np.ndarray]:
    """Questions whose options are the same set (or two options): a multinomial classifier of the
    answer from the question's words, restricted to the item's options."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    y = np.array([it.answer for it in items], dtype=object)
    correct, confidence = np.zeros(len(items)), np.zeros(len(items))
    for train, test in folds:
        classes = sorted(set(y[train]))
        if len(classes) < 2:
            for i in test:
                correct[i], confidence[i] = float(y[i] == classes[0]), 1.0
            continue
        vec = TfidfVectorizer(analyzer=_question_features, sublinear_tf=True)
        model = LogisticRegression(max_iter=2000, C=10.0).fit(
            vec.fit_transform([items[i].question for i in train]), y[train]
        )
        proba = model.predict_proba(vec.transform([items[i].question for i in test]))
        for row, i in zip(proba, test):
            opts = items[i].options
            scored = [(row[classes.index(o)] if o in classes else 0.0, -opts.index(o), o) for o in opts]
            p, _, guess = max(scored)
            correct[i], confidence[i] = float(guess == items[i].answer), float(p)
    return correct, confidence


def _number_text_only(items: list[BlindItem], folds) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge

    y = np.array([it.value for it in items], dtype=float)
    target = np.log(np.maximum(y, 1e-3))
    scores, confidence = np.zeros(len(items)), np.zeros(len(items))
    for train, test in folds:
        vec = TfidfVectorizer(analyzer=_question_features, sublinear_tf=True)
        x = vec.fit_transform([items[i].question for i in train])
        model = Ridge(alpha=1.0).fit(x, target[train])
        pred = np.exp(model.predict(vec.transform([items[i].question for i in test])))
        for i, p in zip(test, pred):
            scores[i] = mean_relative_accuracy(float(p), float(y[i]))
            confidence[i] = -abs(p - y[i]) / max(abs(y[i]), 1e-9)
    return scores, confidence


def _grounded_text_only(items: list[BlindItem], folds) -> tuple[np.ndarray, np.ndarray]:
    """Boxes and points: ridge regression of the coordinates from the question's words; the
    confidence is how close the prediction lands, relative to the answer's size."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import Ridge

    y = np.stack([_coordinates(it) for it in items])
    scores, confidence = np.zeros(len(items)), np.zeros(len(items))
    for train, test in folds:
        vec = TfidfVectorizer(analyzer=_question_features, sublinear_tf=True)
        x = vec.fit_transform([items[i].question for i in train])
        model = Ridge(alpha=1.0).fit(x, y[train])
        pred = model.predict(vec.transform([items[i].question for i in test]))
        for i, p in zip(test, pred):
            scores[i] = _grounded_score(items[i], p)
            confidence[i] = -np.linalg.norm(p - y[i]) / max(np.linalg.norm(y[i]), 1e-9)
    return scores, confidence


def _majority(items: list[BlindItem], folds, by_template: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per item: the score of the other folds' most frequent answer (numbers: median; grounded
    answers: ``_typical`` median), and 1 as its confidence (every majority guess is equally sure)."""
    numeric = not items[0].options
    scores = np.zeros(len(items))
    key = (lambda it: it.template) if by_template else (lambda it: "")
    for train, test in folds:
        if _grounded(items):
            members: dict[str, list[int]] = defaultdict(list)
            for i in train:
                members[key(items[i])].append(i)
            guesses = {k: _typical(items, v, np.median) for k, v in members.items()}
            overall = _typical(items, train, np.median)
            for i in test:
                scores[i] = _grounded_score(items[i], guesses.get(key(items[i]), overall))
        elif numeric:
            pools: dict[str, list[float]] = defaultdict(list)
            for i in train:
                pools[key(items[i])].append(items[i].value)
            everything = [items[i].value for i in train]
            for i in test:
                guess = float(np.median(pools.get(key(items[i])) or everything))
                scores[i] = mean_relative_accuracy(guess, items[i].value)
        else:
            counts: dict[str, Counter] = defaultdict(Counter)
            overall: Counter = Counter()
            for i in train:
                counts[key(items[i])][items[i].answer] += 1
                overall[items[i].answer] += 1
            for i in test:
                c = counts.get(key(items[i])) or overall
                opts = items[i].options
                guess = max(opts, key=lambda o: (c[o], -opts.index(o)))
                scores[i] = float(guess == items[i].answer)
    return scores, np.ones(len(items))


def _random_maps_score(item: BlindItem, rng: np.random.Generator) -> float:
    """The mean score of ``MAP_DRAWS`` maps placing each of ``item``'s categories in a random cell."""
    named = map_cells(json.loads(item.answer)) or {}
    cells = item.grounding.cells
    draws = ({c: [tuple(rng.integers(0, cells, 2))] for c in named} for _ in range(MAP_DRAWS))
    return float(
        np.mean([grounded_score(item.answer_type, item.answer, m, item.tolerance, item.grounding) for m in draws])
    )


def _chance(items: list[BlindItem], folds) -> float:
    if items[0].options:
        return float(np.mean([1 / len(it.options) for it in items]))
    if items[0].answer_type == "cognitive map":
        rng = np.random.default_rng(0)
        return float(np.mean([_random_maps_score(it, rng) for it in items]))
    total = 0.0
    for train, test in folds:
        if _grounded(items):
            guess = _typical(items, train, np.mean)
            total += sum(_grounded_score(items[i], guess) for i in test)
        else:
            mean = float(np.mean([items[i].value for i in train]))
            total += sum(mean_relative_accuracy(mean, items[i].value) for i in test)
    return total / len(items)


def _text_only(items: list[BlindItem], folds) -> tuple[np.ndarray, np.ndarray] | None:
    """Per item: the text-only model's score and confidence; None for cognitive maps (module docstring)."""
    if _grounded(items):
        return None if items[0].answer_type == "cognitive map" else _grounded_text_only(items, folds)
    if not items[0].options:
        return _number_text_only(items, folds)
    if len({frozenset(it.options) for it in items}) == 1:
        return _fixed_text_only(items, folds)
    return _choice_text_only(items, folds)


def _predictors(items: list[BlindItem], folds) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per blind predictor: per-item scores and confidences (cross-validated)."""
    predictors = {
        "majority": _majority(items, folds, by_template=False),
        "majority_template": _majority(items, folds, by_template=True),
    }
    text_only = _text_only(items, folds)
    return predictors if text_only is None else {**predictors, "text_only": text_only}


def _metric(items: list[BlindItem]) -> str:
    if items and _grounded(items):
        return METRICS[items[0].answer_type]
    return "accuracy" if items and items[0].options else "MRA"


def _measure(family: str, items: list[BlindItem]) -> tuple[FamilyBaseline, dict | None]:
    metric = _metric(items)
    episodes = len({i.episode for i in items})
    base = FamilyBaseline(family=family, metric=metric, items=len(items), episodes=episodes, measured=False)
    if len(items) < MIN_ITEMS or episodes < MIN_EPISODES:
        return base, None
    folds = _folds(items)
    predictors = _predictors(items, folds)
    means = {name: float(scores.mean()) for name, (scores, _) in predictors.items()}
    return base.model_copy(update={"measured": True, "chance": _chance(items, folds), **means}), predictors


def family_baseline(family: str, items: list[BlindItem]) -> FamilyBaseline:
    """The blind baselines of one family's items."""
    return _measure(family, items)[0]


def by_family(items: list[BlindItem]) -> dict[str, list[BlindItem]]:
    groups: dict[str, list[BlindItem]] = defaultdict(list)
    for it in items:
        groups[it.family].append(it)
    return dict(sorted(groups.items()))


def baselines(items: list[BlindItem]) -> list[FamilyBaseline]:
    """Blind baselines of every family among ``items``."""
    return [family_baseline(f, its) for f, its in by_family(items).items()]


def debias(items: list[BlindItem]) -> tuple[set[tuple[int, str]], list[FamilyBaseline]]:
    """Iterative bias pruning (module docstring): the (episode, question id) pairs to drop, and
    every family's baselines on what is left (with its best blind score before pruning). Each
    round drops, from the items the best blind predictor gets right, the most confident ones:
    half of what would bring its score to the target if it did not adapt."""
    pruned: set[tuple[int, str]] = set()
    report = []
    for family, its in by_family(items).items():
        first, predictors = _measure(family, its)
        current, rounds = first, 0
        while predictors and current.margin_points > TARGET_POINTS and rounds < MAX_ROUNDS:
            rounds += 1
            name = max(predictors, key=lambda n: (getattr(current, n), n))
            scores, confidence = predictors[name]
            goal = current.chance + TARGET_POINTS / 100
            right = [k for k in range(len(its)) if scores[k] > goal]
            excess = (scores.sum() - goal * len(its)) / max(1e-9, 1 - goal)
            k = min(len(its) - MIN_ITEMS, max(1, math.ceil(excess / 2)))
            if not right or k <= 0:
                break
            drop = set(sorted(right, key=lambda j: (-confidence[j], its[j].episode, its[j].id))[:k])
            pruned |= {(its[j].episode, its[j].id) for j in drop}
            its = [it for j, it in enumerate(its) if j not in drop]
            current, predictors = _measure(family, its)
        if current.flagged:  # still a shortcut with MIN_ITEMS left: no item of it can be trusted
            pruned |= {(it.episode, it.id) for it in its}
            current = FamilyBaseline(
                family=family, metric=first.metric, items=0, episodes=0, measured=False, dropped=True
            )
        if rounds or current.dropped:
            current = current.model_copy(update={"blind_before": first.blind, "pruned": first.items - current.items})
        report.append(current)
    return pruned, report
