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
            definition=(
                "Euclidean distance between the centres of the two objects' 3D boxes; asked only when neither moves "
                "and the video shows each object across at least 70% of its box along every axis (so a viewer can "
                "locate its centre)."
            ),
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
            definition=(
                "Height of the object's tight 3D box; asked only when its visible surface spans at least 90% of that "
                "height and reaches its top."
            ),
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
            definition=(
                "Largest extent of the object's tight 3D box; asked only when its visible surface spans at least 90% "
                "of that extent."
            ),
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
            definition=(
                "Area of the floor polygon; asked only when the floor is seen and no stretch of the walls longer than"
                " 0.5 m stays unseen."
            ),
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
            definition=(
                "Distance from the floor to the ceiling; asked only when both the floor and the ceiling are seen."
            ),
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
            definition=(
                "Number of objects of the category seen in the video; asked only if no object of the category is "
                "merely glimpsed."
            ),
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
            definition=(
                "In that frame, the side of the first object's visible mask centroid relative to the second's; asked "
                "only when they differ by at least 8% of the image width and no image border cuts either object on "
                "the side that could reverse the order."
            ),
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
            definition=(
                "Above: the first object's box bottom is more than 5 cm above the second's box top (below: the "
                "reverse); both objects seen."
            ),
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
            definition=(
                "The object whose visible pixels have the smaller median depth in that frame; asked only when the two"
                " medians differ by at least 15%."
            ),
        ),
        _family(
            "closest_object",
            (
                "Which object is closest to the {a}, measured between their surfaces?",
                "What is the nearest object to the {a} (smallest gap between their surfaces)?",
                "Of the objects in the room, which one's surface comes closest to the {a}?",
            ),
            {"a": OBJ},
            "object",
            tags=("static", "metric"),
            definition=(
                "The object whose tight 3D box surface is nearest to the named object's (surface to surface, at the "
                "first frame); asked only when the runner-up is at least 1.5 times plus 15 cm farther, both objects "
                "are seen across at least half their box horizontally and neither moves."
            ),
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
            definition=(
                "Whether the first object's top is higher above the floor than the second's; asked only when the "
                "video shows both tops and they differ by at least 10 cm."
            ),
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
            definition=(
                "What the object stands on (the floor or another object); asked only when the video shows where it "
                "meets its support (and that support's top, in a frame with both)."
            ),
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
            definition=(
                "The object seen first (at least the minimum of visible pixels); asked only when no other candidate "
                "is glimpsed, even by a few pixels, until a later frame."
            ),
        ),
        _family(
            "which_object_moved",
            (
                "Which object moved during the video?",
                "One object is visibly moved in this video. Which one?",
                "Which object was moved while the video was recorded?",
            ),
            {},
            "object",
            tags=("temporal", "dynamic", "sims-v"),
            definition=(
                "The one object whose pose changes; asked only when the motion is visible: the object is seen before "
                "and after it and its visible surface does not stay where a static object's would (a turn of a round "
                "object is no visible motion)."
            ),
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
            definition=(
                "In the frame where the second object is first seen (not glimpsed earlier), the side of the first "
                "object's visible mask centroid relative to the second's, with the margin and border-cut rules of "
                "relative_direction_lr."
            ),
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
            definition=(
                "Sign of the camera's heading change from the first to the last frame; asked only when it exceeds 10 "
                "degrees."
            ),
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
            definition=(
                "Absolute heading change of the camera from the first to the last frame, degrees; asked only when it "
                "exceeds 10 degrees."
            ),
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
            definition=(
                "Straight-line distance between the camera's first and last positions; asked only when it exceeds 0.2"
                " m."
            ),
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
            definition=(
                "Dominant direction of the camera's displacement in its first frame's heading; asked only when it "
                "exceeds 0.3 m and the other component is at most half of it."
            ),
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
            definition=(
                "Dominant direction of the object's displacement in the camera's first heading; asked only when the "
                "motion is visible (see which_object_moved), at least 25 cm, and the other component at most 40% of "
                "it."
            ),
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
            definition=(
                "Side of the third object's centre seen from the first's centre facing the second's; asked only when "
                "each centre can be located from the video (visible across at least half its box horizontally), both "
                "are at least 1 m away and the angle is between 25 and 155 degrees."
            ),
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
            definition=(
                "Turn from the final heading toward the object's centre: straight ahead within 8 degrees, otherwise "
                "left or right when between 25 and 165 degrees; the object's centre must be locatable from the video "
                "and at least 1 m away. A moved object counts only when seen where it ends up."
            ),
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
            definition=(
                "Whether a 1 m step from the final camera position brings the object's centre at least 30 cm closer "
                "or farther (horizontally); the centre must be locatable from the video."
                " A moved object counts only when seen where it ends up."
            ),
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
            definition=(
                "Side of the object's centre after a 90-degree turn at the final position, between 25 and 155 degrees"
                " off the new heading; the centre must be locatable from the video and at least 1 m away."
                " A moved object counts only when seen where it ends up."
            ),
        ),
    )
}
