"""One item against the video: :class:`Finding` (the verdict on one shipped answer),
:func:`as_text` (an auditor's answer in the words the dataset ships) and :func:`audit_item`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from synth.audit.families import answer
from synth.audit.view import View
from synth.core.grounding import box3d_iou, box_iou, map_cells
from synth.core.records import GROUNDED

FLOOR_WORDS = "the floor"
NAMED_SLOTS = (
    "a",
    "b",
    "c",
    "d",
    "e",
    "start",
    "facing",
    "via1",
    "via2",
    "goal",
)  # slots naming objects (d, e: VSI-Bench relative distance; start .. goal: its routes)


@dataclass(frozen=True)
class Finding:
    """The verdict on one shipped answer: what the video shows for it and whether they agree."""

    key: str  # sample key
    item: str  # question id
    family: str
    shipped: str
    audited: str | None  # the auditor's answer (None: the video does not support one)
    agrees: bool
    why: str = ""

    def line(self) -> str:
        """One human-readable line (what ``synth verify --evidence`` prints for a disagreement)."""
        return (
            f"{self.key}/{self.item} [{self.family}]: shipped {self.shipped!r}, "
            f"video shows {self.audited if self.audited is not None else 'no answer'!s}; {self.why}"
        )


def as_text(view: View, value) -> str | None:
    """An auditor's answer as the dataset writes it: options as they are, an object id as its
    description (0: the floor), a number to three significant digits, coordinates as JSON; None
    stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, (int, np.integer)):
        return FLOOR_WORDS if value == 0 else view.ep.scene.object(int(value)).description
    return f"{value:.3g}"


def audit_item(view: View, key: str, item: dict, plain: View | None = None) -> Finding:
    """One item against the video: an answer must be what ``view`` shows; an abstention is wrong
    only where ``plain`` (the same sample counting only what plainly shows; default ``view``)
    shows every object it names and the answer."""
    family, slots = item["family"], dict(item["slots"])
    shipped = item["answer"]
    if item.get("query_frame") is not None:  # a streaming item: what the video shows up to its query frame
        view, plain = view.prefix(item["query_frame"]), plain and plain.prefix(item["query_frame"])
    if item.get("abstain"):
        view = plain or view
        named = [v for k, v in slots.items() if k in NAMED_SLOTS]
        if not all(view.seen(o) for o in named):
            return Finding(key, item["id"], family, shipped, None, True, "a named object is not seen")
        value = answer(view, family, slots, item)
        text = as_text(view, value)
        choices = item.get("choices") or []
        # a number or coordinates are measurements the auditor takes wherever it can read some
        # pixels: they do not say that the delivered video plainly shows the answer
        if text is not None and item["answer_type"] not in ("number", *GROUNDED) and (not choices or text in choices):
            return Finding(key, item["id"], family, shipped, text, False, "abstains, but the video shows the answer")
        return Finding(key, item["id"], family, shipped, text, True, "abstention")
    value = answer(view, family, slots, item)
    if family in ("object_count", "object_counting") and plain is not None and not item.get("abstain"):
        # objects the auditor leaves undecided may or may not count: any count in between agrees
        low = answer(plain, family, slots, item)
        if low is not None and value is not None and min(low, value) <= float(item["value"]) <= max(low, value):
            value = float(item["value"])
        elif value is None:
            value = low
    text = as_text(view, value)
    named = [v for k, v in slots.items() if k in NAMED_SLOTS]
    if not all(view.seen(o) for o in named):
        return Finding(key, item["id"], family, shipped, text, False, "names an object the video does not show")
    if value is None:
        return Finding(key, item["id"], family, shipped, None, False, "the video supports no answer")
    if item["answer_type"] == "number":
        truth = float(item["value"])
        tol = max(float(item.get("tolerance") or 0.0) * abs(truth), 1e-9 if float(value).is_integer() else 0.0)
        ok = abs(float(value) - truth) <= tol + 1e-9
        return Finding(key, item["id"], family, shipped, text, ok, "" if ok else f"measured {value:.3g}")
    if item["answer_type"] in GROUNDED:
        ok = grounded_agree(item["answer_type"], value, json.loads(shipped))
        return Finding(key, item["id"], family, shipped, text, ok, "" if ok else "different place")
    ok = text == shipped
    return Finding(key, item["id"], family, shipped, text, ok, "" if ok else "different answer")


# how close the auditor's grounded answer and the shipped one must be (issue #33): the same mask's
# box read apart, the box its visible surfaces span (they span the whole box, as the family asks,
# to a few centimetres), a point the auditor accepts, a map measured from the visible surfaces
# (centres known to half a cell: each object's cell the auditor's or one of its neighbours)
AGREE_IOU = 0.9
AGREE_IOU_3D = 0.7
AGREE_POINT = 1e-6  # the auditor gives back the shipped point when it accepts it
AGREE_CENTRE = 0.05  # metres
AGREE_CELLS = 1


def grounded_agree(answer_type: str, audited, shipped) -> bool:
    """Whether the auditor's coordinates ``audited`` agree with the ``shipped`` ones."""
    if answer_type == "cognitive map":  # each object in the auditor's cell or a neighbour of it
        cells, mine = map_cells(shipped), map_cells(audited)
        return (
            cells is not None
            and mine is not None
            and set(cells) == set(mine)
            and all(max(abs(a - b) for a, b in zip(cells[k][0], mine[k][0])) <= AGREE_CELLS for k in cells if cells[k])
        )
    if answer_type == "2d box":
        return box_iou(audited, shipped) >= AGREE_IOU
    if answer_type == "3d box":
        return box3d_iou(audited, shipped) >= AGREE_IOU_3D
    limit = AGREE_POINT if answer_type == "2d point" else AGREE_CENTRE
    return math.dist(audited, shipped) <= limit
