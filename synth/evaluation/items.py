"""The questions of a finished dataset as items to export, ask and score: one per question and sample.

An item's ``id`` is ``{sample key}/{question id}`` (e.g. ``ep0000003-fog-2/relative_depth-7``):
unique in a dataset, stable across reruns of the same run, and the key of a predictions file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from synth.core.records import RENDERED, SampleMeta
from synth.programs.family import QA
from synth.storage.dataset import Sample, iter_samples

CLEAN = "clean"


@dataclass(frozen=True)
class Item:
    id: str  # "{sample key}/{question id}"
    key: str  # the sample's key
    index: int  # the episode's index in the run (a clean sample and its variants share it)
    variant: str  # "clean" or "<degradation>-<severity>"
    qa: QA

    @property
    def degradation(self) -> str:
        """The degradation type of the variant, or "clean"."""
        return degradation_of(self.variant)

    @property
    def severity(self) -> int:
        """The degradation's severity (1-5), 0 for the clean video."""
        return 0 if self.variant in RENDERED else int(self.variant.rsplit("-", 1)[1])


def degradation_of(variant: str) -> str:
    """The degradation type of a variant name ("fog-2" -> "fog"), or "clean" (a minimal pair's
    moved episode: "pair")."""
    return variant if variant in RENDERED else variant.rsplit("-", 1)[0]


def parse_variants(text: str | None) -> set[str] | None:
    """``--variants`` as a filter: None (all) or a set of names; a name is "clean", a degradation
    type ("fog": every severity) or a variant ("fog-2")."""
    if not text:
        return None
    names = {v.strip() for v in text.split(",") if v.strip()}
    if not names:
        raise ValueError("--variants needs at least one name, e.g. clean,fog")
    return names


def wanted(variant: str, names: set[str] | None) -> bool:
    """Whether ``variant`` passes the ``parse_variants`` filter."""
    if names is None:
        return True
    return variant in names or degradation_of(variant) in names


def sample_items(meta: SampleMeta) -> list[Item]:
    return [Item(f"{meta.key}/{q.id}", meta.key, meta.index, meta.variant, q) for q in meta.questions]


def iter_metas(root: Path, variants: set[str] | None = None) -> Iterable[tuple[Sample, SampleMeta]]:
    """Every sample of a finished dataset directory whose variant passes ``variants``, with its
    validated JSON."""
    for sample in iter_samples(root):
        meta = SampleMeta.model_validate_json(sample.files["json"])
        if wanted(meta.variant, variants):
            yield sample, meta


def read_items(root: Path, variants: set[str] | None = None) -> list[Item]:
    """Every item of a finished dataset directory (see ``synth.storage.s3.local_dataset`` for s3://)."""
    items = [item for _, meta in iter_metas(root, variants) for item in sample_items(meta)]
    if not items:
        raise ValueError(f"{root} has no questions{' in the variants asked for' if variants else ''}")
    return items
