"""Reasoning traces (issue #33): what a family's program read from the scene, step by step.

A trace is recorded, not written: the program runs once more in the sandbox against a recording
copy of its ``SceneAPI`` (``record``), which logs every public call the program makes and those
the API makes for it one level down (e.g. the mask centroids and the margin behind
``image_side``): the method, its arguments, the value it returned (numbers to 4 decimals; a
repeated identical call once), up to ``MAX_STEPS``. ``trace_text`` renders the steps as short
sentences that cite the frame (1-based, as the questions name frames) and the box, point or
value each step read, a cognitive map of the objects whose pose it read (issue #33, item 3), then
the answer.
``synth verify --traces`` runs the program again, recorded, and requires the same steps and the
same text: a trace whose number, frame, object or comparison was changed is rejected.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from typing import Any

from synth.core.records import GROUNDED, QA, TraceStep
from synth.core.scene import Episode
from synth.programs.scene_api import SceneAPI

MAX_STEPS = 120  # a program reading more than this is cut off there (``TraceStep`` "..." last)
DIGITS = 4  # decimals kept of every number a step records


def plain(value: Any) -> Any:
    """A value the scene API returned as JSON: dataclasses as dicts, tuples as lists, floats to
    ``DIGITS`` decimals (non-finite ones as None)."""
    if dataclasses.is_dataclass(value):
        return {k: plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return round(value, DIGITS) if math.isfinite(value) else None
    return value


def _logged(name: str, fn: Any) -> Any:
    """``fn`` (a ``SceneAPI`` method or property getter) logging each call into the instance's
    trace: the program's own calls and those the API makes for them, one level down."""

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        self._depth += 1
        try:
            value = fn(self, *args, **kwargs)
        finally:
            self._depth -= 1
        if self._depth < NESTING:
            _log(self, name, args, kwargs, value)
        return value

    return call


NESTING = 2  # levels of calls a trace keeps: the program's, and the API's own reads for them


def _log(api: Any, call: str, args: tuple, kwargs: dict, value: Any) -> None:
    text = {k: json.dumps(plain(v), sort_keys=True) for k, v in (("args", list(args)), ("kwargs", kwargs))}
    key = repr((call, text["args"], text["kwargs"]))
    if key in api._seen:
        return
    api._seen.add(key)
    if len(api._steps) < MAX_STEPS:
        api._steps.append({"call": call, **text, "value": json.dumps(plain(value), sort_keys=True)})
    elif len(api._steps) == MAX_STEPS:
        api._steps.append({"call": "..."})


def _recording_class() -> type:
    """``SceneAPI`` with each public method and property logging what it returns."""
    members: dict[str, Any] = {"_depth": 0, "__doc__": "A ``SceneAPI`` that logs its reads (``record``)."}
    for name, member in vars(SceneAPI).items():
        if name.startswith("_") or name == "drop":  # giving no answer is not a read
            continue
        if isinstance(member, property):
            members[name] = property(_logged(name, member.fget))
        elif callable(member):
            members[name] = _logged(name, member)
    return type("RecordingSceneAPI", (SceneAPI,), members)


RecordingSceneAPI = _recording_class()


def record(api: SceneAPI) -> SceneAPI:
    """A recording copy of ``api`` (its caches shared): give it to the program, then ``steps_of``."""
    rec = copy.copy(api)
    rec.__class__ = RecordingSceneAPI
    rec._steps, rec._seen, rec._depth = [], set(), 0
    rec._seen_answers = {}  # its own: each seen() it answers reads the frames, recorded
    return rec


def steps_of(recorded: SceneAPI) -> list[dict]:
    """The ``TraceStep`` dicts ``recorded`` logged, in the order the calls returned."""
    return recorded._steps


# how each call reads: (the sentence, which arguments are objects and frames, the value's format in
# ``_WORDS``); {0}, {1}, ... are the arguments, {v} the value
_OBJ, _FRAME = "object", "frame"
SENTENCES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "is_visible": ("the {0} is {v} in frame {1}", (_OBJ, _FRAME), "visible"),
    "seen": ("the {0} is {v} in the video", (_OBJ,), "seen"),
    "glimpsed": ("the {0} {v} at all in the video", (_OBJ,), "shows"),
    "visible_pixels": ("in frame {1}, {v} pixels show the {0}", (_OBJ, _FRAME), ""),
    "first_seen": ("the {0} is first seen in frame {v}", (_OBJ,), "frame"),
    "first_glimpsed": ("the {0} first shows in frame {v}", (_OBJ,), "frame"),
    "visible_depth": ("in frame {1}, the {0}'s visible surface is {v} from the camera", (_OBJ, _FRAME), "m"),
    "mask_centroid": ("in frame {1}, the {0}'s centre is at {v}", (_OBJ, _FRAME), "px"),
    "mask_box": ("in frame {1}, the {0} fills the box {v}", (_OBJ, _FRAME), "box"),
    "cut_sides": ("in frame {1}, the image border cuts the {0} at {v}", (_OBJ, _FRAME), "sides"),
    "image_side": ("in frame {2}, the {0} is {v} of the {1}", (_OBJ, _OBJ, _FRAME), "side"),
    "in_full_view": ("in frame {1}, the {0} is {v}", (_OBJ, _FRAME), "in full view"),
    "extent_seen": ("the video shows {v} of the {0}'s depth, width and height", (_OBJ,), "shares"),
    "surface_seen": ("the video shows {v} of the {0}'s surface", (_OBJ,), "share"),
    "top_seen": ("the top of the {0} is {v}", (_OBJ,), "seen"),
    "bottom_seen": ("the bottom of the {0} is {v}", (_OBJ,), "seen"),
    "object": ("the {0} is a {v}", (_OBJ, _FRAME), "object"),
    "surface_distance": ("the {0} and the {1} are {v} apart (box surfaces)", (_OBJ, _OBJ, _FRAME), "m"),
    "mesh_distance": ("the closest points of the {0} and the {1} are {v} apart", (_OBJ, _OBJ, _FRAME), "m"),
    "seen_mesh_distance": ("their closest seen points, the {0}'s and the {1}'s, are {v} apart", (_OBJ, _OBJ), "m"),
    "seen_surface_distance": ("the seen surfaces of the {0} and the {1} are {v} apart", (_OBJ, _OBJ), "m"),
    "camera": ("in frame {0}, the camera is at {v}", (_FRAME,), "camera"),
    "project": ("in frame {1}, the {0}'s centre projects to {v}", (_OBJ, _FRAME), "projection"),
    "margin": ("{0} against the threshold {1}: {v}", ("", ""), "margin"),
    "num_frames": ("the video has {v} frames", (), ""),
    "width": ("the frames are {v} px wide", (), ""),
    "height": ("the frames are {v} px high", (), ""),
    "fps": ("the video runs at {v} frames per second", (), ""),
    "objects": ("the scene holds {v} objects", (_FRAME,), "count"),
    "object_ids": ("the scene holds {v} objects", (), "count"),
    "centre_uncertainty": ("the {0}'s centre is known to within {v}", (_OBJ,), "m"),
    "walk": ("walking from the {0} to the {1} takes {v}", (_OBJ, _OBJ), "m"),
    "room_holding": ("the {0} stands in room {v}", (_OBJ,), "room"),
    "standing_turn": ("standing at the {0} facing the {1}, the {2} is at {v}", (_OBJ, _OBJ, _OBJ), "turn"),
    "motion": ("the {0} {v}", (_OBJ,), "motion"),
    "category_first_seen": ("a {0} is first seen in frame {v}", ("",), "frame"),
    "category_first_glimpsed": ("a {0} first shows in frame {v}", ("",), "frame"),
    "occluded_share": (
        "in frame {1}, {v} of the {0}'s outline borders something in front of it",
        (_OBJ, _FRAME),
        "share",
    ),
    "inner_point": ("in frame {1}, the point of the {0} farthest from its outline is {v}", (_OBJ, _FRAME), "inner"),
    "clearly_visible": ("in frame {1}, the {0} is {v}", (_OBJ, _FRAME), "clearly"),
    "camera_box": ("in the camera frame of frame {1}, the {0}'s box is {v}", (_OBJ, _FRAME), "box 3d"),
}


def _num(x: Any) -> str:
    return f"{x:.3g}" if isinstance(x, float) else str(x)


def _flag(yes: str, no: str) -> Any:
    return lambda v: yes if v else no


_SIDES = {"l": "left", "r": "right", "t": "top", "b": "bottom"}
_WORDS: dict[str, Any] = {  # value format -> the value in words
    "visible": _flag("visible", "not visible"),
    "seen": _flag("seen", "not seen"),
    "shows": _flag("shows", "does not show"),
    "in full view": _flag("in full view", "not in full view"),
    "margin": _flag("clear of it", "within the margin"),
    "frame": lambda v: "no frame" if v == -1 else str(v + 1),
    "m": lambda v: f"{_num(v)} m",
    "px": lambda v: f"({v[0]:.0f}, {v[1]:.0f}) px",
    "box": lambda v: f"({v[0]}, {v[1]})-({v[2]}, {v[3]}) px",
    "sides": lambda v: ", ".join(_SIDES[c] for c in v) or "no side",
    "side": lambda v: f"to the {v}",
    "shares": lambda v: ", ".join(f"{x:.0%}" for x in v),
    "share": lambda v: f"{v:.0%}",
    "room": lambda v: str(v[0]),
    "count": lambda v: str(len(v)),
    "turn": lambda v: f"{_num(v[0])} degrees (margin {_num(v[1])})",
    "object": lambda v: (
        f"{v['category']}, {' x '.join(_num(s) for s in v['size'])} m, "
        f"centred at ({', '.join(_num(c) for c in v['center'])})"
    ),
    "camera": lambda v: (
        f"({', '.join(_num(c) for c in v['position'])}), heading {math.degrees(v['heading']):.0f} degrees"
    ),
    "projection": lambda v: f"({v['u']:.0f}, {v['v']:.0f}) px at depth {_num(v['depth'])} m",
    "motion": lambda v: f"moves from {v['start']} to {v['end']}",
    "clearly": _flag("clearly visible (its whole outline shows)", "not clearly visible"),
    "inner": lambda v: f"({v[0]:.1f}, {v[1]:.1f}) px, {_num(v[2])} px inside it",
    "box 3d": lambda v: (
        f"centred at ({', '.join(_num(c) for c in v[:3])}) m, {' x '.join(_num(s) for s in v[3:6])} m, "
        f"turned (roll, pitch, yaw) ({', '.join(_num(a) for a in v[6:])}) rad"
    ),
}


def _value(kind: str, v: Any) -> str:
    """The value of a step in words, by the sentence's format ``kind``."""
    if v is None:
        return "does not move" if kind == "motion" else "nothing"
    try:
        return _WORDS[kind](v) if kind in _WORDS else _num(v)
    except (TypeError, KeyError, IndexError, ValueError):  # a value of another shape: as it is
        return str(v)


def _sentence(step: TraceStep, episode: Episode) -> str:
    form = SENTENCES.get(step.call)
    args, value = json.loads(step.args), json.loads(step.value)
    if form is None:
        return f"{step.call}({', '.join(map(_num, args))}) = {_value('', value)}"
    text, kinds, value_kind = form
    shown = []
    for kind, arg in zip(kinds, [*args, *[0] * (len(kinds) - len(args))]):  # a frame left out: the first
        if kind == _OBJ and isinstance(arg, int):
            shown.append(episode.scene.object(arg).description if arg else "floor")
        elif kind == _FRAME and isinstance(arg, int):
            shown.append(str(arg + 1))
        else:
            shown.append(_num(arg))
    return text.format(*shown, v=_value(value_kind, value))


MAP_CELLS = 10  # the cognitive map a trace draws of the objects it read (VSI-Bench's probe: 10x10)
MAP_SPAN = 0.5  # metres: the least span of the centres worth a map
MAP_MOST = 6  # objects: a trace that read more (every object of the scene) draws none


def trace_map(steps: list[TraceStep], episode: Episode) -> dict[str, list[int]] | None:
    """A cognitive map of the objects a trace read the pose of (its ``object`` steps, as of the
    first frame read): each object's cell ``[column, row]`` on a ``MAP_CELLS`` x ``MAP_CELLS``
    top-down grid along world x (columns) and y (rows) over the smallest square holding their
    box centres, by description; None for fewer than two objects or more than ``MAP_MOST``, or
    centres closer than ``MAP_SPAN``. The map the ``cognitive_map`` family asks for, drawn for any
    item's objects."""
    centres: dict[str, tuple[float, float]] = {}
    for step in steps:
        if step.call == "object":
            found, args = json.loads(step.value), json.loads(step.args)
            if isinstance(found, dict) and args and isinstance(args[0], int) and args[0]:
                centres.setdefault(episode.scene.object(args[0]).description, tuple(found["center"][:2]))
    if not 2 <= len(centres) <= MAP_MOST:
        return None
    x0, y0 = (min(c[k] for c in centres.values()) for k in (0, 1))
    side = max(max(c[0] for c in centres.values()) - x0, max(c[1] for c in centres.values()) - y0)
    if side < MAP_SPAN:
        return None
    cell = side / MAP_CELLS
    last = MAP_CELLS - 1
    return {d: [min(last, int((x - x0) / cell)), min(last, int((y - y0) / cell))] for d, (x, y) in centres.items()}


def trace_text(qa: QA, episode: Episode) -> str:
    """``qa``'s trace as plain text: one sentence per step, the cognitive map of the objects it
    placed (``trace_map``; not for grounded answers, a map or a place themselves), then the answer."""
    if not qa.trace:
        return ""
    lines = []
    for step in qa.trace:
        if step.call == "...":
            lines.append("(and more steps)")
            continue
        sentence = _sentence(step, episode)
        lines.append(sentence[0].upper() + sentence[1:] + ".")
    found = None if qa.answer_type in GROUNDED else trace_map(qa.trace, episode)
    if found:
        cells = ", ".join(f"the {d} at {c}" for d, c in found.items())
        lines.append(f"On a {MAP_CELLS}x{MAP_CELLS} map of the smallest square holding their centres: {cells}.")
    lines.append(f"So the answer is: {qa.answer}.")
    return " ".join(lines)
