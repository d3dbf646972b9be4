"""Named run presets: defaults that explicit options override (nested as in ``RunConfig``)."""

from __future__ import annotations

PRESETS: dict[str, dict] = {
    # static and dynamic episodes, every question family, abstentions
    "default": {},
    # SAT-dynamic: most episodes move an object; every family, including the five SAT dynamic ones
    "sat-dynamic": {"dynamic_share": 0.75, "video": {"frames": 16}, "abstention_share": 0.1},
    # static scenes only (no object motion)
    "static": {"dynamic_share": 0.0},
    # VSI-Bench-style walkthroughs: Infinigen-furnished houses of 3-4 rooms (what a 60 s tour walks
    # through, about 15 s a room; --duration 120 --max-rooms 8 for bigger ones), 60 s tours at 4 fps
    "vsi-tour": {
        "source": {"simulator": "procedural", "layout": "house", "max_rooms": 4},
        "trajectory": "tour",
        "duration": 60.0,
        "video": {"fps": 4.0},
        "dynamic_share": 0.0,
        "streaming": "object_counting,obj_appearance_order",
    },
}
