"""Metric distance between two objects (SIMS-V / VSI-Bench style absolute distance)."""

from programs.family import Family
from programs.scene_api import SceneAPI, distance


def answer(scene: SceneAPI, a: int, b: int) -> float:
    """Distance between the centres of the two objects' 3D boxes at frame 0, metres."""
    return round(distance(scene.object(a).center, scene.object(b).center), 2)


FAMILY = Family(
    id="metric_distance",
    templates=(
        "How far apart are the {a} and the {b}, in metres (centre to centre)?",
        "What is the distance between the centre of the {a} and the centre of the {b}, in metres?",
        "Measured centre to centre, how many metres separate the {a} from the {b}?",
    ),
    slots=("a", "b"),
    answer_type="number",
    program=answer,
    program_id="programs.library.metric_distance:answer@1",
    unit="m",
    tolerance=0.1,
    definition="Euclidean distance between the centres of the two objects' 3D bounding boxes, metres.",
)
