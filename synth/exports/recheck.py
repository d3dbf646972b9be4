"""Each exported item re-checked against the frames the export shows (``exports.sampling``).

An item is kept only if a person shown exactly those frames could give its answer:

0. a streaming item (``QA.query_frame``: answered from the frames up to it) goes only into its
   prefix record, whose frames end at its query frame (``query_frame``), and is re-checked there;
1. a question about one frame (a ``frame`` slot) needs that frame shown (it is then re-worded to
   name it as the model sees it: ``sampling.reword``);
2. an answer that names objects needs at least one of its evidence frames (frames where every
   named object is visible) shown;
3. where the export shows only some frames, the auditor (``synth.audit``, which shares nothing with
   the programs) answers the item again counting objects only in the shown frames (and, for a
   degraded variant, only where its delivered video shows them): a different answer drops it.

Drops are counted per family and reason (``export.json``).
"""

from __future__ import annotations

import numpy as np

from synth.audit.dataset import audit_sample
from synth.audit.degraded import discernible
from synth.core.records import SampleMeta
from synth.exports.sampling import Sampling, reword
from synth.programs.family import QA
from synth.storage.media import decode_gt, decode_mp4

FRAME_NOT_SHOWN = "its frame is not shown"
NO_EVIDENCE = "no evidence frame shown"
OTHER_ANSWER = "the shown frames give another answer"
NEEDS_VIEWS = "asks which candidate view settles it: the views are not in the export"


def _audit(
    meta: SampleMeta, files: dict[str, bytes], sampling: Sampling, clean_mp4: bytes | None, query_frame: int | None
) -> set[str]:
    """Ids of the sample's items asked at ``query_frame`` (None: the whole video's) that the
    auditor answers otherwise on the shown frames alone."""
    doc = meta.model_dump(mode="json")
    doc["questions"] = [q for q in doc["questions"] if q.get("query_frame") == query_frame and q.get("settles") is None]
    n = len(meta.episode.frames)  # the whole video (a prefix record's sampling covers its start)
    if meta.variant != "clean" and clean_mp4 is not None:
        _, instance = decode_gt(files["gt.npz"])
        judged = discernible(decode_mp4(files["mp4"]), decode_mp4(clean_mp4), instance, doc)
    else:  # every object as the clean video shows it (audit_sample reads the passes itself)
        judged = np.ones((n, max((o.id for o in meta.episode.scene.objects), default=0) + 1))
    frames = np.zeros((n, 1))
    frames[list(sampling.indices)] = 1.0
    shown = judged * frames
    return {f.item for f in audit_sample(doc, files["gt.npz"], shown) if not f.agrees}


def recheck(
    meta: SampleMeta,
    files: dict[str, bytes],
    sampling: Sampling,
    clean_mp4: bytes | None = None,
    query_frame: int | None = None,
) -> tuple[list[QA], list[tuple[str, str]]]:
    """The sample's questions as exported (re-worded, in order) and the dropped ones as
    (family, reason). ``files``: the sample's members (``mp4``, ``gt.npz``); ``clean_mp4``: the
    clean video of the same episode, for a degraded variant; ``query_frame``: the streaming items
    asked there, for their prefix record (``sampling``: of the frames up to it), instead of the
    whole video's items."""
    kept, dropped = [], []
    shown = set(sampling.indices)
    subset = query_frame is not None or len(shown) < sampling.total
    other = _audit(meta, files, sampling, clean_mp4, query_frame) if subset else set()
    for qa in meta.questions:
        if qa.query_frame != query_frame:
            continue
        worded = reword(qa, sampling)
        if qa.settles is not None:
            dropped.append((qa.family, NEEDS_VIEWS))
        elif worded is None:
            dropped.append((qa.family, FRAME_NOT_SHOWN))
        elif not qa.abstain and qa.evidence_frames and not shown.intersection(qa.evidence_frames):
            dropped.append((qa.family, NO_EVIDENCE))
        elif qa.id in other:
            dropped.append((qa.family, OTHER_ANSWER))
        else:
            kept.append(worded)
    return kept, dropped
