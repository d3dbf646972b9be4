"""Habitat scene datasets: synth scenes written in Habitat's formats, and read back.

Layout written by :func:`write_scene` (one dataset folder may hold many scenes)::

    synth.scene_dataset_config.json           paths of stages, objects, scenes; the lexicon
    stages/{scene}.stage_config.json + .glb   the room shell (floor, walls, ceiling), world coordinates
    objects/{scene}_obj{id:04d}.object_config.json + .glb   one per object, in its local frame
    scenes/{scene}.scene_instance.json        the stage and every object with its pose
    semantics/synth_semantic_lexicon.json     category classes ({"classes": [{"name", "id"}]})
    semantics/{scene}.semantic_config.json    rooms as region annotations
    episodes/{key}.trajectory.json            (with an episode) camera and object poses per frame

Conventions, from habitat-sim's documentation (https://aihabitat.org/docs/habitat-sim/attributesJSON.html)
and source (``src/esp/metadata``, ``geo/Geo.h``): Habitat's world is right-handed, +Y up, front
-Z, metres; JSON quaternions are [w, x, y, z]. synth's world is +Z up, so a point maps
``(x, y, z) -> (x, z, -y)`` (``C``, a -90 degree turn about X) and a rotation ``R -> C R C^T``.
glTF is +Y up too: every GLB holds Y-up coordinates and every config says ``"up": [0, 1, 0],
"front": [0, 0, -1]`` (the identity frame). Object configs set ``"COM": [0, 0, 0]`` so an
instance's ``translation`` is where the asset's origin goes (Habitat otherwise re-centres the
mesh on its bounding box), scene files set ``"translation_origin": "asset_local"``, and the stage
is baked in world coordinates (Habitat ignores a stage instance's transform).

Semantics: an object config's ``semantic_id`` is the synth object id (what Habitat's SEMANTIC
sensor returns per pixel: synth's instance masks); the category is in the config's
``user_defined.category`` and, as a class, in the lexicon (``user_defined.class_id``). Rooms are
``region_annotations`` (floor polygon ``poly_loop`` in Habitat coordinates, ``floor_height``,
``extrusion_height``) with their materials in ``user_defined``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from synth.core.meshes import DOOR_FINISH, Mesh, asset_mesh, local_mesh, part_mesh, room_meshes
from synth.core.rotations import matrix_quaternion, quaternion_matrix
from synth.core.scene import Episode, Room, Scene, SceneObject

DATASET_NAME = "synth"
LEXICON = "semantics/synth_semantic_lexicon.json"
SSD_HANDLE = "synth_ssd_map"
C = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])  # synth (Z-up) -> Habitat (Y-up)
Y_UP_TO_Z_UP = np.eye(4)
Y_UP_TO_Z_UP[:3, :3] = C.T  # a GLB's coordinates -> synth's object frame (MeshAsset.transform)
IDENTITY_FRAME = {"up": [0.0, 1.0, 0.0], "front": [0.0, 0.0, -1.0]}


# ------------------------------------------------------------------------------ conventions
def to_habitat(points) -> np.ndarray:
    """synth world points (..., 3) -> Habitat world points."""
    return np.asarray(points, dtype=float) @ C.T


def from_habitat(points) -> np.ndarray:
    return np.asarray(points, dtype=float) @ C


def rotation_to_habitat(q_wxyz) -> list[float]:
    """A synth world rotation (quaternion w, x, y, z) as Habitat's (``C R C^T``)."""
    return matrix_quaternion(C @ quaternion_matrix(q_wxyz, normalize=True) @ C.T).tolist()


def rotation_from_habitat(q_wxyz) -> tuple[float, float, float, float]:
    """A Habitat rotation (quaternion w, x, y, z, any length) as synth's (``C^T R C``)."""
    return tuple(matrix_quaternion(C.T @ quaternion_matrix(q_wxyz, normalize=True) @ C).tolist())


def camera_pose(world_to_camera) -> tuple[list[float], list[float]]:
    """Habitat agent/sensor pose (position, rotation [w, x, y, z]) of a synth camera (OpenCV
    world-to-camera): Habitat cameras look along -Z with +Y up, so the OpenCV camera-to-world
    rotation is turned by diag(1, -1, -1) before the change of world axes."""
    T = np.linalg.inv(np.asarray(world_to_camera, dtype=float))
    R = C @ T[:3, :3] @ np.diag([1.0, -1.0, -1.0])
    return [float(v) for v in C @ T[:3, 3]], matrix_quaternion(R).tolist()


def world_to_camera(position, rotation) -> np.ndarray:
    """The synth (OpenCV) world-to-camera matrix of a Habitat agent/sensor pose (the inverse of
    :func:`camera_pose`)."""
    T = np.eye(4)
    T[:3, :3] = C.T @ quaternion_matrix(rotation, normalize=True) @ np.diag([1.0, -1.0, -1.0])
    T[:3, 3] = C.T @ np.asarray(position, dtype=float)
    return np.linalg.inv(T)


# ------------------------------------------------------------------------------ writing
def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _glb(parts: list[tuple[Mesh, tuple[float, float, float]]], path: Path, roughness: float = 0.5) -> None:
    """A GLB of meshes (synth coordinates, converted to Y-up here), one material colour each."""
    import trimesh
    from trimesh.visual.material import PBRMaterial

    scene = trimesh.Scene()
    for k, (mesh, rgb) in enumerate(parts):
        tm = trimesh.Trimesh(to_habitat(mesh.vertices), mesh.faces, process=False)
        colour = [float(c) for c in rgb] + [1.0]
        tm.visual = trimesh.visual.TextureVisuals(
            material=PBRMaterial(baseColorFactor=colour, metallicFactor=0.0, roughnessFactor=roughness)
        )
        scene.add_geometry(tm, geom_name=f"part{k}", node_name=f"part{k}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(scene.export(file_type="glb"))
    os.replace(tmp, path)


def _object_parts(obj: SceneObject, asset_root: str) -> list[tuple[Mesh, tuple[float, float, float]]]:
    base = obj.material.rgb if obj.material else (0.6, 0.6, 0.6)
    if obj.parts:
        return [(part_mesh(p), p.color or base) for p in obj.parts]
    return [(local_mesh(obj, asset_root), base)]


def object_handle(scene_name: str, object_id: int) -> str:
    return f"{scene_name}_obj{object_id:04d}"


def _room_json(room: Room) -> dict:
    return {
        "name": room.name or room.function or "room",
        "label": room.function or room.name or "room",
        "poly_loop": to_habitat([[x, y, 0.0] for x, y in room.footprint]).round(6).tolist(),
        "floor_height": 0.0,
        "extrusion_height": room.height,
        "min_bounds": to_habitat([*np.min(room.footprint, axis=0), 0.0]).tolist(),
        "max_bounds": to_habitat([*np.max(room.footprint, axis=0), room.height]).tolist(),
        "user_defined": {"synth_room": json.loads(room.model_dump_json())},
    }


def write_dataset_config(out: Path, categories: Iterable[str]) -> dict[str, int]:
    """Write the dataset's ``synth.scene_dataset_config.json`` and its lexicon, extended by
    ``categories``; returns the lexicon (class name -> id)."""
    out = Path(out)
    lexicon = out / LEXICON
    known = {}
    if lexicon.exists():
        known = {c["name"]: c["id"] for c in json.loads(lexicon.read_text())["classes"]}
    merged = {"unknown": 0, **known}
    for name in sorted(set(categories)):
        merged.setdefault(name, max(merged.values()) + 1)
    _write_json(lexicon, {"classes": [{"name": n, "id": i} for n, i in sorted(merged.items(), key=lambda t: t[1])]})
    config = {
        "stages": {"default_attributes": IDENTITY_FRAME, "paths": {".json": ["stages"]}},
        "objects": {"default_attributes": IDENTITY_FRAME, "paths": {".json": ["objects"]}},
        "scene_instances": {
            "default_attributes": {"default_lighting": ""},
            "paths": {".json": ["scenes"]},
        },
        "semantic_scene_descriptor_instances": {
            "default_attributes": {"semantic_descriptor_filename": Path(LEXICON).name},
            "paths": {".json": ["semantics"]},
        },
    }
    _write_json(out / f"{DATASET_NAME}.scene_dataset_config.json", config)
    return merged


def write_scene(scene: Scene, out: Path, scene_name: str) -> Path:
    """Write ``scene`` into the Habitat scene dataset at ``out`` (module docstring); returns the
    scene instance's path."""
    out = Path(out)
    classes = write_dataset_config(out, (o.category for o in scene.objects))
    shell = []
    for room in scene.rooms:
        meshes = room_meshes(room)
        shell += [
            (meshes["floor"], room.floor.rgb),
            (meshes["walls"], room.wall.rgb),
            (meshes["ceiling"], room.ceiling.rgb),
        ]
        if "doors" in meshes:
            shell.append((meshes["doors"], DOOR_FINISH.rgb))
    if scene.stage is not None:  # a scene read from a stage-only dataset keeps its stage
        shell.append((asset_mesh(scene.stage, scene.asset_root), (0.7, 0.7, 0.7)))
    _glb(shell, out / "stages" / f"{scene_name}.glb", roughness=0.8)
    _write_json(
        out / "stages" / f"{scene_name}.stage_config.json",
        {
            "render_asset": f"{scene_name}.glb",
            **IDENTITY_FRAME,
            "user_defined": {"synth_lights": [json.loads(light.model_dump_json()) for light in scene.lights]},
        },
    )
    instances = []
    for obj in scene.objects:
        handle = object_handle(scene_name, obj.id)
        _glb(_object_parts(obj, scene.asset_root), out / "objects" / f"{handle}.glb")
        _write_json(
            out / "objects" / f"{handle}.object_config.json",
            {
                "render_asset": f"{handle}.glb",
                **IDENTITY_FRAME,
                "COM": [0.0, 0.0, 0.0],
                "semantic_id": obj.id,
                "user_defined": {
                    "synth_id": obj.id,
                    "category": obj.category,
                    "class_id": classes[obj.category],
                    "description": obj.description,
                    "material": json.loads(obj.material.model_dump_json()) if obj.material else None,
                    "movable": obj.movable,
                    "supported_by": obj.supported_by,
                    "look_alikes": obj.look_alikes,
                    "source_id": obj.source_id,
                    "synth_box": json.loads(obj.box.model_dump_json()),
                },
            },
        )
        instances.append(
            {
                "template_name": f"objects/{handle}.object_config",
                "translation": to_habitat(obj.box.center).round(9).tolist(),
                "rotation": rotation_to_habitat(obj.box.rotation),
                "motion_type": "KINEMATIC" if obj.movable else "STATIC",
                "translation_origin": "asset_local",
                "user_defined": {"synth_id": obj.id},
            }
        )
    _write_json(
        out / "semantics" / f"{scene_name}.semantic_config.json",
        {
            "semantic_descriptor_filename": Path(LEXICON).name,
            "region_annotations": [_room_json(r) for r in scene.rooms],
        },
    )
    path = out / "scenes" / f"{scene_name}.scene_instance.json"
    _write_json(
        path,
        {
            "stage_instance": {"template_name": f"stages/{scene_name}.stage_config"},
            "translation_origin": "asset_local",
            "default_lighting": "",
            "semantic_scene_instance": f"semantics/{scene_name}.semantic_config",
            "object_instances": instances,
            "user_defined": {
                "synth": {
                    "seed": scene.seed,
                    "simulator": scene.simulator,
                    "reference": scene.reference,
                    "navigable": [[list(p) for p in poly] for poly in scene.navigable],
                }
            },
        },
    )
    return path


def write_trajectory(episode: Episode, out: Path, key: str, scene_name: str, hfov_deg: float) -> Path:
    """The episode's camera (and object) poses per frame in Habitat's conventions, to replay the
    video in habitat-sim: put the sensor at the agent (``CameraSensorSpec.position = [0, 0, 0]``,
    ``orientation = [0, 0, 0]``, ``hfov``, ``resolution = [H, W]``) and set the agent state of each
    frame (position, rotation [w, x, y, z]; pass the rotation as a numpy-quaternion: a plain list
    is read as [x, y, z, w] by ``AgentState``)."""
    video = episode.video
    frames = []
    for f in episode.frames:
        position, rotation = camera_pose(f.camera.world_to_camera)
        frames.append(
            {
                "index": f.index,
                "time": f.time,
                "agent_state": {"position": position, "rotation": rotation},
                "objects": [
                    {
                        "synth_id": p.id,
                        "template_name": f"objects/{object_handle(scene_name, p.id)}.object_config",
                        "translation": to_habitat(p.position).round(9).tolist(),
                        "rotation": rotation_to_habitat(p.rotation),
                    }
                    for p in f.object_poses
                ],
            }
        )
    path = Path(out) / "episodes" / f"{key}.trajectory.json"
    _write_json(
        path,
        {
            "format": "synth habitat trajectory 1.0",
            "scene_dataset_config": f"{DATASET_NAME}.scene_dataset_config.json",
            "scene_id": f"scenes/{scene_name}.scene_instance",
            "sensor": {
                "type": "PINHOLE",
                "hfov_deg": hfov_deg,
                "resolution": [video.height, video.width],
                "position": [0.0, 0.0, 0.0],
                "orientation": [0.0, 0.0, 0.0],
                "depth": "planar, metres along the camera axis",
            },
            "fps": video.fps,
            "moving_objects": [m.id for m in episode.motions],
            "frames": frames,
        },
    )
    return path
