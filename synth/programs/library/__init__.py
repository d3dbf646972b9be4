"""The vetted library of question families, stored like compiled families (``synth.programs.family_io``):
``<id>.py`` holds a family's program as source text, ``<id>.family.yaml`` beside it everything
else. Programs always run through the sandbox, like any other program."""

from __future__ import annotations

from pathlib import Path

from synth.programs.family import Family
from synth.programs.family_io import load_families

# the order in which a run asks the families (it draws random numbers family by family, so a
# changed order changes datasets); every family in this directory must be listed
ORDER = (
    # static: metric measurement, sizes, counting, room
    "metric_distance",
    "object_height",
    "object_longest_side",
    "room_floor_area",
    "room_ceiling_height",
    "object_count",
    # static: relations
    "relative_direction_lr",
    "relative_vertical",
    "relative_depth",
    "closest_object",
    "taller_than",
    "support",
    # temporal tracking (SIMS-V)
    "first_appearance",
    "which_object_moved",
    "where_when_appeared",
    # camera perception
    "camera_turn_direction",
    "camera_rotation_angle",
    "camera_translation",
    # SAT dynamic
    "ego_movement",
    "object_movement",
    "allocentric_side",
    "goal_aiming",
    "action_distance",
    "action_side",
    # VSI-Bench (issue #28): measurement
    "object_counting",
    "object_abs_distance",
    "object_size_estimation",
    "room_size_estimation",
    "object_rel_distance",
    "obj_appearance_order",
    # VSI-Bench (issue #28): directions, routes, rooms
    "object_rel_direction_easy",
    "object_rel_direction_medium",
    "object_rel_direction_hard",
    "rooms_visited",
    "larger_room",
    "route_planning",
    "object_room",
    "object_room_size",
    # grounded answers (issue #33): boxes, points, cognitive maps
    "object_box_2d",
    "object_point_2d",
    "object_box_3d",
    "object_centre_3d",
    "cognitive_map",
)

FAMILIES: dict[str, Family] = load_families(Path(__file__).parent, ORDER)
