"""The auditor over a finished dataset: :func:`audit_sample` (every item of one sample, clean or
degraded), :func:`audit_dataset` (every sample of a dataset directory, each degraded variant
against its clean sample's video) and :func:`agreement` (per-family tallies of findings)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth.audit.degraded import discernible
from synth.audit.families import answer
from synth.audit.items import NAMED_SLOTS, Finding, audit_item
from synth.audit.view import View
from synth.core.records import PAIR, WHICH_VIEW
from synth.core.scene import Episode, Frame
from synth.storage.dataset import iter_samples, read_manifest
from synth.storage.media import decode_gt, decode_mp4, decode_views


@dataclass(frozen=True)
class Clean:
    """What the clean sample of an episode shows: pixels per frame and object, answered items."""

    pixels: np.ndarray  # (F, max id + 1)
    answered: frozenset[str]


def _counts(instance: np.ndarray) -> np.ndarray:
    size = int(instance.max(initial=0)) + 1
    return np.stack([np.bincount(f.ravel(), minlength=size) for f in instance])


def audit_sample(
    meta: dict, gt: bytes, shown: np.ndarray | None = None, clean: Clean | None = None, views: bytes | None = None
) -> list[Finding]:
    """Findings for every question of one sample (``meta``: its JSON; ``gt``: its gt.npz bytes;
    for a degraded variant ``shown``, :func:`discernible` of its delivered frames, and ``clean``,
    what its clean sample shows; ``views``: its views.npz, the candidate views after the video).
    A variant's abstention is wrong only where the clean video answered it, the variant plainly
    shows every object it names wherever the clean video shows it (at least 90% of its pixels:
    nothing was hidden), and the variant shows the answer."""
    episode = Episode.model_validate(meta["episode"])
    depth, instance = decode_gt(gt)
    px, frames = episode.visibility_rule.min_pixels, episode.visibility_rule.min_frames
    view = View(episode, depth, instance, px, frames, shown)
    if shown is None:
        return [
            audit_settled(view, meta, q, views) if q["family"] == WHICH_VIEW else audit_item(view, meta["key"], q)
            for q in meta["questions"]
        ]
    plain = View(episode, depth, instance, px, frames, shown, strict=True)
    out = []
    for q in meta["questions"]:
        found = audit_item(view, meta["key"], q, plain)
        if q.get("abstain") and not found.agrees and clean is not None:
            named = [v for k, v in q["slots"].items() if k in NAMED_SLOTS]
            hidden = q["id"] not in clean.answered or any(_less_shown(plain, clean.pixels, o) for o in named)
            if hidden:
                found = Finding(found.key, found.item, found.family, found.shipped, found.audited, True, "less shown")
        out.append(found)
    return out


def audit_settled(view: View, meta: dict, item: dict, views: bytes | None) -> Finding:
    """A "which view would settle it" item: the video alone must not show every object the asked
    question names, and exactly the answer's view, shown after the video for the visibility rule's
    frames (the auditor's reading of the video's passes and the view's), must let the question's
    own auditor answer with every named object seen."""
    slots = {k: v for k, v in item["slots"].items() if k != "family"}
    named = [v for k, v in slots.items() if k in NAMED_SLOTS]
    shipped = item["answer"]
    if all(view.seen(o) for o in named):
        return Finding(meta["key"], item["id"], WHICH_VIEW, shipped, None, False, "the video alone shows every object")
    if not views or not meta.get("views"):
        return Finding(meta["key"], item["id"], WHICH_VIEW, shipped, None, False, "no candidate views in the sample")
    _, depth, instance = decode_views(views)
    hold, n = view.min_frames, view.n
    settles = []
    for k, frame in enumerate(meta["views"]):
        frames = [*view.ep.frames, *(Frame.model_validate({**frame, "index": n + j}) for j in range(hold))]
        longer = View(
            view.ep.model_copy(update={"frames": frames}),
            np.concatenate([view.depth, np.repeat(depth[k][None], hold, axis=0)]),
            np.concatenate([view.inst, np.repeat(instance[k][None], hold, axis=0)]),
            view.min_px,
            view.min_frames,
        )
        settles.append(
            all(longer.seen(o) for o in named) and answer(longer, item["slots"]["family"], slots, item) is not None
        )
    audited = f"view {settles.index(True) + 1}" if sum(settles) == 1 else None
    ok = audited == shipped
    why = "" if ok else ("no single view settles it" if audited is None else "another view settles it")
    return Finding(meta["key"], item["id"], WHICH_VIEW, shipped, audited, ok, why)


def _less_shown(plain: View, clean: np.ndarray, o: int) -> bool:
    """Some frame that shows the object in the clean video shows less of it plainly here."""
    ref = clean[:, o] if o < clean.shape[1] else np.zeros(plain.n)
    here = plain.px[:, o] if o < plain.px.shape[1] else np.zeros(plain.n)
    return bool(((ref >= plain.min_px) & (here < 0.9 * ref)).any())


def audit_dataset(root: Path) -> list[Finding]:
    """Findings for every item of a finished dataset directory."""
    root = Path(root)
    read_manifest(root)
    clean_video: dict[int, bytes] = {}
    clean: dict[int, Clean] = {}
    pending = []
    findings: list[Finding] = []
    for s in iter_samples(root):
        meta = json.loads(s.files["json"])
        if meta.get("variant", "clean") == PAIR:  # a render of its own, with its own passes
            findings += audit_sample(meta, s.files["gt.npz"])
        elif meta.get("variant", "clean") == "clean":
            clean_video[meta["index"]] = s.files["mp4"]
            answered = frozenset(q["id"] for q in meta["questions"] if not q.get("abstain"))
            clean[meta["index"]] = Clean(_counts(decode_gt(s.files["gt.npz"])[1]), answered)
            findings += audit_sample(meta, s.files["gt.npz"], views=s.files.get("views.npz"))
        else:
            pending.append((meta, s.files))
    for meta, files in pending:
        shown = None
        if meta["index"] in clean_video:
            _, instance = decode_gt(files["gt.npz"])
            shown = discernible(decode_mp4(files["mp4"]), decode_mp4(clean_video[meta["index"]]), instance, meta)
        findings += audit_sample(meta, files["gt.npz"], shown, clean.get(meta["index"]))
    return findings


def agreement(findings: list[Finding]) -> dict[str, tuple[int, int]]:
    """Per family: (items the video supports, items)."""
    total, ok = Counter(), Counter()
    for f in findings:
        total[f.family] += 1
        ok[f.family] += f.agrees
    return {k: (ok[k], total[k]) for k in sorted(total)}
