"""The online oracle for self-play (a questioner proposes, a solver answers, as SpatialEvo runs it):
a question proposed about an episode of a finished dataset, as a library family with slots (or a
program of the questioner's own for that family's answer type), is answered by synth's own means
and checked against what the video shows, or refused with the reason.

``Oracle(dataset)`` (a folder or ``s3://``; it holds every sample's JSON and passes in memory and
runs programs in one sandbox worker) and ``oracle.ask(key, family, slots, program=None,
query_frame=None) -> Verdict``; ``synth oracle DIR --key K --family F --slots JSON`` on the
command line. A question is refused (``Verdict.valid`` false, ``reason`` saying why), in this order:

- ``"not visible: ..."``: an object it names is not seen (the episode's visibility rule), or a
  streaming question (``query_frame``) names one not seen by then;
- ``"ambiguous: ..."``: an object's description names another object too, or a look-alike the
  video does not show (``synth.programs.generate.unambiguous``);
- the program's own reason where it gives no answer (``scene.drop``: ``"within the margin"``,
  ``"walls not all seen"``, ...), or its error;
- ``"disagrees with the video: ..."``: the independent auditor (``synth.audit``), reading the
  sample's masks and depth, shows another answer (families it has no reading for are not
  audited: ``Verdict.audited`` is None).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from synth.audit import AUDITORS, View, audit_item
from synth.core.scene import Episode
from synth.programs.family import Family
from synth.programs.generate import answer_text, check_answer, evidence_frames, split_answer, unambiguous
from synth.programs.grounded import grounding, is_grounded
from synth.programs.library import FAMILIES
from synth.programs.sandbox import SandboxPool, Task
from synth.programs.scene_api import SceneAPI, prefix_episode
from synth.storage.dataset import iter_samples
from synth.storage.media import decode_gt


@dataclass(frozen=True)
class Verdict:
    """The oracle's answer to one proposed question."""

    valid: bool
    answer: str | None = None  # as the dataset writes it: an option, yes/no, an object's description, a number
    value: float | None = None  # number answers
    reason: str = ""  # why the question is refused ("" when valid)
    evidence_frames: list[int] = field(default_factory=list)  # frames showing every object it names
    audited: str | None = None  # the auditor's answer from the rendered passes (None: not audited)
    chosen: dict = field(default_factory=dict)  # objects the program picked (route planning's landmarks)

    def json(self) -> str:
        return json.dumps(asdict(self))


class Oracle:
    """Questions about the episodes of one finished dataset, answered and verified (module docstring)."""

    def __init__(self, dataset: str | Path, families: dict[str, Family] | None = None):
        from synth.storage.s3 import local_dataset

        self.families = {**FAMILIES, **(families or {})}
        self._samples: dict[str, tuple[dict, bytes]] = {}
        for s in iter_samples(local_dataset(dataset)):
            meta = json.loads(s.files["json"])
            self._samples[meta["key"]] = (meta, s.files["gt.npz"])
        if not self._samples:
            raise ValueError(f"{dataset} has no samples")
        self._pool = SandboxPool(workers=1)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ask(
        self, key: str, family: str, slots: dict, program: str | None = None, query_frame: int | None = None
    ) -> Verdict:
        """Answer ``family``'s question with ``slots`` (object ids, frame indices, categories) about
        sample ``key``, with the family's program or ``program`` (a source defining
        ``answer(scene, ...)``), from the frames up to ``query_frame`` if given. Raises ValueError
        for an unknown sample, family or slot name (the question cannot even be put)."""
        if key not in self._samples:
            raise ValueError(f"no sample {key!r} in the dataset")
        if family not in self.families:
            raise ValueError(f"no family {family!r} (library or given)")
        fam = self.families[family]
        wanted = set(fam.slots) - set(fam.chosen_slots)
        if not wanted <= set(slots) <= set(fam.slots):
            raise ValueError(
                f"{family} takes slots {sorted(fam.slots)} ({sorted(wanted)} required), got {sorted(slots)}"
            )
        meta, gt = self._samples[key]
        whole = episode = Episode.model_validate(meta["episode"])
        if query_frame is not None:
            if not 0 <= query_frame < len(whole.frames):
                raise ValueError(f"query frame {query_frame} is outside the video's {len(whole.frames)} frames")
            episode = prefix_episode(whole, query_frame)
        api = SceneAPI(episode)
        objects = [slots[s] for s in fam.object_slots() if s in slots]
        for o in objects:
            if o not in api.object_ids():
                raise ValueError(f"object {o} is not in {key}'s scene")
            if not api.seen(o):
                return Verdict(False, reason=f"not visible: {episode.scene.object(o).description} is not seen")
        clear = unambiguous(episode)
        for o in objects:
            if o not in clear:
                return Verdict(
                    False, reason=f"ambiguous: {episode.scene.object(o).description!r} does not name one object"
                )
        (out,) = self._pool.run(episode.model_dump_json(), [Task(program or fam.source, slots)])
        if not out.ok:
            return Verdict(False, reason=f"the program failed: {out.error}")
        if out.value is None:
            return Verdict(False, reason=out.why or "the program gives no answer")
        value, chosen = split_answer(fam, out.value, slots)
        problem = check_answer(fam, value, api) if value is not None else "no answer and picked objects"
        if problem:
            return Verdict(False, reason=f"the program's answer is unusable: {problem}")
        text, number = answer_text(fam, value, episode)
        named = [*objects, *chosen.values()]
        evidence = evidence_frames(api, named)
        if family not in AUDITORS:
            return Verdict(True, text, number, "", evidence, None, chosen)
        depth, instance = decode_gt(gt)
        rule = episode.visibility_rule
        view = View(whole, depth, instance, rule.min_pixels, rule.min_frames)  # audit_item cuts it at query_frame
        item = {
            "id": f"{family}-oracle",
            "family": family,
            "slots": {**slots, **chosen},
            "answer": text,
            "value": number,
            "answer_type": fam.answer_type,
            "tolerance": fam.tolerance,
            "query_frame": query_frame,
            "grounding": grounding(fam, slots, episode).model_dump() if is_grounded(fam) else None,
        }
        found = audit_item(view, key, item)
        reason = "" if found.agrees else f"disagrees with the video: {found.why}"
        return Verdict(found.agrees, text, number, reason, evidence, found.audited, chosen)
