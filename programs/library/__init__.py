"""The vetted library of question families. Programs live beside this file as source text
(``<family id>.py``) and always run through the sandbox, like any other program."""

from __future__ import annotations

from pathlib import Path

from programs.family import Family

HERE = Path(__file__).parent
OBJ, FRAME, CAT = "object", "frame", "category"
LR = ("left", "right")


def _family(id: str, templates: tuple[str, ...], slots: dict, answer_type: str, **kw) -> Family:
    return Family(
        id=id,
        templates=templates,
        slots=slots,
        answer_type=answer_type,
        source=(HERE / f"{id}.py").read_text(),
        provenance={"origin": "library"},
        **kw,
    )


FAMILIES: dict[str, Family] = {
    f.id: f
    for f in (
        # ---- static: metric measurement, sizes, counting, room
        _family(
            "metric_distance",
            (
                "How far apart are the {a} and the {b}, in metres (centre to centre)?",
                "What is the distance between the centre of the {a} and the centre of the {b}, in metres?",
                "Measured centre to centre, how many metres separate the {a} from the {b}?",
            ),
            {"a": OBJ, "b": OBJ},
            "number",
            unit="m",
            tolerance=0.1,
            symmetric=True,
            tags=("static", "metric", "sims-v"),
            definition="Euclidean distance between the centres of the two objects' 3D boxes at the first frame.",
        ),
        _family(
            "object_height",
            (
                "How tall is the {a}, in metres?",
                "What is the height of the {a} in metres?",
                "Roughly how many metres tall is the {a}?",
            ),
            {"a": OBJ},
            "number",
            unit="m",
            tolerance=0.1,
            tags=("static", "size", "metric"),
            definition="Height of the object's 3D box.",
        ),
        _family(
            "object_longest_side",
            (
                "How long is the longest side of the {a}, in centimetres?",
                "What is the largest dimension of the {a} in centimetres?",
                "In centimetres, how big is the {a} along its longest side?",
            ),
            {"a": OBJ},
            "number",
            unit="cm",
            tolerance=0.1,
            tags=("static", "size", "metric"),
            definition="Largest extent of the object's 3D box (depth, width or height).",
        ),
        _family(
            "room_floor_area",
            (
                "What is the floor area of this room, in square metres?",
                "How many square metres is the floor of this room?",
                "Estimate the size of this room's floor in square metres.",
            ),
            {},
            "number",
            unit="m^2",
            tolerance=0.15,
            tags=("static", "room size", "metric"),
            definition="Area of the floor polygon.",
        ),
        _family(
            "room_ceiling_height",
            (
                "How high is the ceiling of this room, in metres?",
                "What is the ceiling height here, in metres?",
                "How many metres is it from the floor to the ceiling?",
            ),
            {},
            "number",
            unit="m",
            tolerance=0.1,
            tags=("static", "room size", "metric"),
            definition="Distance from the floor to the ceiling.",
        ),
        _family(
            "object_count",
            (
                "How many {category} can be seen in the video?",
                "How many {category} appear in this video?",
                "Count the {category} visible in the video.",
            ),
            {"category": CAT},
            "number",
            unit="",
            tolerance=0.0,
            tags=("static", "counting"),
            definition="Number of objects of the category seen in the video; asked only if none is partly visible.",
            keep={"1": 0.3},
        ),
        # ---- static: relations
        _family(
            "relative_direction_lr",
            (
                "In frame {frame}, is the {a} to the left or to the right of the {b}?",
                "Looking at frame {frame}, is the {a} on the left or the right side of the {b}?",
                "In frame {frame} of the video, where is the {a} relative to the {b}: left or right?",
            ),
            {"a": OBJ, "b": OBJ, "frame": FRAME},
            "multiple choice",
            options=LR,
            tags=("static", "relative direction"),
        ),
        _family(
            "relative_vertical",
            (
                "Is the {a} above or below the {b}?",
                "Is the {a} located higher or lower than the {b}: above or below?",
                "Relative to the {b}, is the {a} above it or below it?",
            ),
            {"a": OBJ, "b": OBJ},
            "multiple choice",
            options=("above", "below"),
            tags=("static", "relative direction"),
        ),
        _family(
            "relative_depth",
            (
                "In frame {frame}, which is closer to the camera: the {a} or the {b}?",
                "Which of the two is nearer to the viewer in frame {frame}, the {a} or the {b}?",
                "In frame {frame}, is the {a} or the {b} closer to the camera?",
            ),
            {"a": OBJ, "b": OBJ, "frame": FRAME},
            "object",
            symmetric=True,
            tags=("static", "relative depth"),
        ),
        _family(
            "closest_object",
            (
                "Which object is closest to the {a}?",
                "What is the nearest object to the {a}?",
                "Of the objects in the room, which one is closest to the {a}?",
            ),
            {"a": OBJ},
            "object",
            tags=("static", "metric"),
        ),
        _family(
            "taller_than",
            (
                "Is the top of the {a} higher than the top of the {b}?",
                "Does the {a} reach higher than the {b}?",
                "Is the {a} taller (its top higher above the floor) than the {b}?",
            ),
            {"a": OBJ, "b": OBJ},
            "yes/no",
            tags=("static", "size"),
        ),
        _family(
            "support",
            (
                "What is the {a} standing on?",
                "What is supporting the {a}?",
                "On what does the {a} rest?",
            ),
            {"a": OBJ},
            "object",
            keep={"the floor": 0.25},
            tags=("static", "relations"),
        ),
        # ---- temporal tracking (SIMS-V)
        _family(
            "first_appearance",
            (
                "Which of these appears first in the video: the {a}, the {b} or the {c}?",
                "Among the {a}, the {b} and the {c}, which one is seen first?",
                "Which comes into view first: the {a}, the {b} or the {c}?",
            ),
            {"a": OBJ, "b": OBJ, "c": OBJ},
            "object",
            symmetric=True,
            tags=("temporal", "sims-v"),
        ),
        _family(
            "which_object_moved",
            (
                "Which object moved during the video?",
                "One object changes position in this video. Which one?",
                "Which object was moved while the video was recorded?",
            ),
            {},
            "object",
            tags=("temporal", "dynamic", "sims-v"),
        ),
        _family(
            "where_when_appeared",
            (
                "When the {b} first appeared, was the {a} to its left or to its right?",
                "At the moment the {b} came into view, was the {a} on its left or right?",
                "In the frame where the {b} is first seen, is the {a} left or right of it?",
            ),
            {"a": OBJ, "b": OBJ},
            "multiple choice",
            options=LR,
            tags=("temporal", "perspective", "sims-v"),
        ),
        # ---- camera perception
        _family(
            "camera_turn_direction",
            (
                "Between the first and the last frame, did the camera turn left or right?",
                "Overall, does the camera rotate to the left or to the right during the video?",
                "Did the view turn to the left or to the right from start to end?",
            ),
            {},
            "multiple choice",
            options=LR,
            tags=("camera", "egocentric"),
        ),
        _family(
            "camera_rotation_angle",
            (
                "By how many degrees did the camera turn between the first and the last frame?",
                "How large is the camera's rotation from the first to the last frame, in degrees?",
                "How many degrees does the viewing direction change over the video?",
            ),
            {},
            "number",
            unit="deg",
            tolerance=0.15,
            tags=("camera",),
        ),
        _family(
            "camera_translation",
            (
                "How far did the camera move between the first and the last frame, in metres (straight line)?",
                "What is the straight-line distance between where the camera starts and ends, in metres?",
                "In metres, how far is the camera's final position from its initial one?",
            ),
            {},
            "number",
            unit="m",
            tolerance=0.15,
            tags=("camera",),
        ),
        # ---- SAT dynamic
        _family(
            "ego_movement",
            (
                "Relative to its initial heading, did the camera end up forward, backward, to the left or to the right "
                "of where it started?",
                "Compared with where it started and the way it first faced, where did the camera move: forward, "
                "backward, left or right?",
                "Did the camera move forward, backward, left or right relative to its starting view?",
            ),
            {},
            "multiple choice",
            options=("forward", "backward", "left", "right"),
            tags=("sat", "egocentric"),
        ),
        _family(
            "object_movement",
            (
                "Relative to the camera's first view, how did the {a} move?",
                "Seen from where the video starts, which way did the {a} move?",
                "In which direction did the {a} move, relative to the initial view?",
            ),
            {"a": OBJ},
            "multiple choice",
            options=("toward the camera", "away from the camera", "to the left", "to the right"),
            tags=("sat", "dynamic", "object movement"),
        ),
        _family(
            "allocentric_side",
            (
                "If you stood at the {a} facing the {b}, would the {c} be on your left or on your right?",
                "Imagine standing at the {a} and looking toward the {b}. Is the {c} to your left or right?",
                "From the position of the {a}, facing the {b}, which side is the {c} on?",
            ),
            {"a": OBJ, "b": OBJ, "c": OBJ},
            "multiple choice",
            options=LR,
            tags=("sat", "perspective", "sims-v"),
        ),
        _family(
            "goal_aiming",
            (
                "At the end of the video, how should the camera turn to face the {a}?",
                "From the final viewpoint, which way must you turn to face the {a}?",
                "To look straight at the {a} from where the video ends, should you turn left, turn right, or keep "
                "looking straight ahead?",
            ),
            {"a": OBJ},
            "multiple choice",
            options=("turn left", "turn right", "straight ahead"),
            tags=("sat", "goal aiming"),
        ),
        _family(
            "action_distance",
            (
                "If the camera moved 1 metre {move} from where the video ends, would the {a} be closer or farther?",
                "After stepping 1 m {move} from the final viewpoint, is the {a} closer or farther away?",
                "Would moving one metre {move} from the last frame bring the {a} closer or take it farther?",
            ),
            {"a": OBJ, "move": "choice"},
            "multiple choice",
            options=("closer", "farther"),
            slot_values={"move": ("forward", "backward")},
            tags=("sat", "action consequence"),
        ),
        _family(
            "action_side",
            (
                "If the camera turned 90 degrees to the {turn} at the end of the video, would the {a} be on its "
                "left or right?",
                "After a 90-degree {turn} turn from the final viewpoint, is the {a} to your left or right?",
                "Turning {turn} by 90 degrees where the video ends, which side would the {a} be on?",
            ),
            {"a": OBJ, "turn": "choice"},
            "multiple choice",
            options=LR,
            slot_values={"turn": LR},
            tags=("sat", "action consequence"),
        ),
    )
}
