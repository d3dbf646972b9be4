"""Habitat scene datasets as a scene source: ``--simulator habitat --scene-dataset PATH [--scene NAME]``.

Reads a ``*.scene_dataset_config.json`` (synth's export, ``synth.backends.habitat.format``, and
datasets laid out the same way: scene instances of object GLBs with object configs, as HSSD and
ReplicaCAD do) into the simulator-neutral ``Scene``:

- objects: one per object instance (ids below); the category from ``user_defined.category``,
  else the lexicon class, else the config's name; geometry = the render asset (a ``MeshAsset``: Habitat's Y-up GLB, its
  frame and scale, re-centred on its bounding box) and the box from the mesh (a box recorded in
  ``user_defined.synth_box`` is used when the mesh agrees with it to 1 mm); pose from the
  instance's translation and rotation; movable unless the instance is ``STATIC``;
- rooms: the scene's region annotations (``poly_loop``, ``floor_height``, ``extrusion_height``)
  with synth's room record where one is kept in ``user_defined``. A scene that declares none
  keeps its stage mesh as the background (``Scene.stage``, drawn with id 0) and plans on the
  stage's floor (``meshes.floor_polygons``), lit by a light over each floor piece.
- ids and categories: synth's export keeps each object's id (``user_defined.synth_id``, also its
  ``semantic_id``); otherwise, where the dataset has a lexicon, ``semantic_id`` is a class id
  (HSSD, ReplicaCAD) that names the category and instances are numbered in order; without a
  lexicon, distinct non-zero semantic ids are the ids.

Without ``--scene`` episode ``i`` of a run uses the dataset's scenes in turn (sorted by name).
Conventions (axes, quaternions, frames): ``synth.backends.habitat.format``.
"""

from __future__ import annotations

import glob
import json
from pathlib import Path

import numpy as np

from synth.backends.habitat.format import C, from_habitat, rotation_from_habitat
from synth.core.meshes import asset_mesh, floor_polygons
from synth.core.rotations import quaternion_matrix
from synth.core.scene import Box3D, Light, Material, MeshAsset, Room, Scene, SceneObject

GREY = {"color_name": "gray", "material_name": "plaster", "rgb": (0.7, 0.7, 0.7)}


class HabitatDatasetError(ValueError):
    """The scene dataset cannot be read as asked (the message names the file and the key)."""


def _read(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except OSError as e:
        raise HabitatDatasetError(f"cannot read {path}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise HabitatDatasetError(f"{path} is not JSON: {e.msg} at line {e.lineno}") from None


def dataset_config(path: str | Path) -> Path:
    """The ``*.scene_dataset_config.json`` at ``path`` (the file, or the one file in a folder)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.glob("*.scene_dataset_config.json"))
        if len(found) != 1:
            raise HabitatDatasetError(f"{path} holds {len(found)} *.scene_dataset_config.json files; name one")
        return found[0]
    if not path.is_file():
        raise HabitatDatasetError(f"no Habitat scene dataset at {path}")
    return path


def _configs(root: Path, section: dict, suffix: str) -> dict[str, Path]:
    """handle (path without the suffix, relative to the dataset folder) -> config file."""
    out = {}
    for entry in (section or {}).get("paths", {}).get(".json", []):
        for hit in sorted(glob.glob(str(root / entry))):
            hit = Path(hit)
            files = sorted(hit.glob(f"*{suffix}")) if hit.is_dir() else [hit]
            for f in files:
                if f.name.endswith(suffix):
                    out[str(f.relative_to(root))[: -len(suffix)]] = f
    return out


def _resolve(handles: dict[str, Path], name: str, what: str) -> Path:
    """Habitat's handle lookup: the exact handle, else the first one containing ``name``."""
    key = name.removesuffix(".json")
    for suffix in (".object_config", ".stage_config", ".scene_instance", ".semantic_config"):
        key = key.removesuffix(suffix)
    if key in handles:
        return handles[key]
    for handle in sorted(handles):
        if key in handle:
            return handles[handle]
    raise HabitatDatasetError(f"no {what} named {name!r}; the dataset has {', '.join(sorted(handles)) or 'none'}")


def _dataset(path: str) -> dict:
    root = Path(path).parent
    cfg = _read(Path(path))
    sections = {
        "stages": ".stage_config.json",
        "objects": ".object_config.json",
        "scene_instances": ".scene_instance.json",
        "semantic_scene_descriptor_instances": ".semantic_config.json",
    }
    return {
        "root": root,
        "config": cfg,
        **{name: _configs(root, cfg.get(name), suffix) for name, suffix in sections.items()},
    }


def scene_names(path: str | Path) -> list[str]:
    """The scene instances of a dataset, by handle (e.g. ``scenes/procedural_0007``)."""
    return sorted(_dataset(str(dataset_config(path)))["scene_instances"])


def _frame(cfg: dict) -> np.ndarray:
    """Rotation from an asset's declared frame (``up``, ``front``) to Habitat's (+Y up, -Z front)."""
    up = np.asarray(cfg.get("up", [0, 1, 0]), dtype=float)
    front = np.asarray(cfg.get("front", [0, 0, -1]), dtype=float)
    right = np.cross(front, up)
    source = np.column_stack([right, up, -front])  # asset axes of Habitat's x, y, z
    return source.T  # orthonormal: inverse = transpose


def _asset(cfg_path: Path, cfg: dict, scale: np.ndarray, root: Path) -> MeshAsset:
    """The config's render asset, its file coordinates taken into synth's axes: scale, the asset's
    declared frame, then Y-up -> Z-up; ``HabitatDatasetError`` naming the config when the file is missing."""
    path = (cfg_path.parent / cfg["render_asset"]).resolve()
    if not path.is_file():
        raise HabitatDatasetError(f"{cfg_path}: render_asset {cfg['render_asset']!r} not found")
    T = np.eye(4)
    T[:3, :3] = C.T @ _frame(cfg) @ np.diag(scale)
    return MeshAsset(uri=str(path.relative_to(root.resolve())), transform=tuple(tuple(r) for r in T))


def _object(
    cfg_path: Path, cfg: dict, instance: dict, object_id: int, class_id: int | None, classes: dict[int, str], root: Path
):
    user = cfg.get("user_defined") or {}
    scale = (
        np.asarray(cfg.get("scale", [1, 1, 1]), dtype=float)
        * np.asarray(instance.get("non_uniform_scale", [1, 1, 1]), dtype=float)
        * float(instance.get("uniform_scale", 1.0))
    )
    unshifted = _asset(cfg_path, cfg, scale, root)  # the object frame before re-centring on the box
    verts = asset_mesh(unshifted, str(root)).vertices
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    centre_local, size = (lo + hi) / 2, hi - lo
    rotation = rotation_from_habitat(instance.get("rotation", [1, 0, 0, 0]))
    R = quaternion_matrix(rotation, normalize=True)
    origin = from_habitat(instance.get("translation", [0, 0, 0]))
    centre = origin + R @ centre_local
    box = Box3D(center=tuple(centre), size=tuple(size), rotation=rotation)
    recorded = user.get("synth_box")
    if (
        recorded
        and np.allclose(recorded["size"], size, atol=1e-3)
        and np.allclose(recorded["center"], centre, atol=1e-3)
    ):
        box = Box3D.model_validate(recorded)
        centre_local = centre_local + R.T @ (np.asarray(box.center) - centre)
    T = np.asarray(unshifted.transform)
    T[:3, 3] = -centre_local
    category = user.get("category") or classes.get(user.get("class_id", class_id)) or cfg_path.name.split(".")[0]
    material = Material.model_validate(user["material"]) if user.get("material") else None
    return SceneObject(
        id=object_id,
        category=str(category).replace("_", " "),
        description=user.get("description") or str(category).replace("_", " "),
        material=material,
        box=box,
        mesh=unshifted.model_copy(update={"transform": tuple(tuple(r) for r in T)}),
        supported_by=int(user.get("supported_by", 0)),
        movable=str(instance.get("motion_type", "STATIC")).upper() != "STATIC",
        look_alikes=list(user.get("look_alikes", [])),
        source_id=str(user.get("source_id") or f"{cfg_path.name}#{cfg.get('semantic_id', 0)}"),
    )


def _rooms(data: dict, scene: dict) -> list[Room]:
    handle = scene.get("semantic_scene_instance") or ""
    if not handle:
        return []
    path = _resolve(data["semantic_scene_descriptor_instances"], handle, "semantic scene")
    rooms = []
    for region in _read(path).get("region_annotations", []):
        kept = (region.get("user_defined") or {}).get("synth_room")
        if kept:
            rooms.append(Room.model_validate(kept))
            continue
        loop = from_habitat(region["poly_loop"])
        rooms.append(
            Room(
                shape="polygon",
                footprint=[(float(x), float(y)) for x, y, _ in loop],
                height=float(region.get("extrusion_height", 2.6)),
                wall=Material(**GREY),
                floor=Material(**{**GREY, "material_name": "wooden", "rgb": (0.45, 0.35, 0.25)}),
                ceiling=Material(**{**GREY, "rgb": (0.9, 0.9, 0.9)}),
                name=str(region.get("label") or region.get("name") or ""),
            )
        )
    return rooms


def read_scene(dataset: str | Path, scene: str, seed: int = 0) -> Scene:
    """The scene instance ``scene`` of the Habitat scene dataset ``dataset`` (module docstring)."""
    path = dataset_config(dataset)
    data = _dataset(str(path))
    root: Path = data["root"]
    instance_path = _resolve(data["scene_instances"], scene, "scene instance")
    inst = _read(instance_path)
    sem_defaults = data["config"].get("semantic_scene_descriptor_instances", {}).get("default_attributes") or {}
    lexicon = {}
    for sem in data["semantic_scene_descriptor_instances"].values():
        name = {**sem_defaults, **_read(sem)}.get("semantic_descriptor_filename")
        if name and (sem.parent / name).is_file():
            lexicon = {c["id"]: c["name"] for c in _read(sem.parent / name).get("classes", [])}
            break
    entries = []
    obj_defaults = data["config"].get("objects", {}).get("default_attributes") or {}
    for obj in inst.get("object_instances", []):
        cfg_path = _resolve(data["objects"], obj["template_name"], "object config")
        entries.append((obj, cfg_path, {**obj_defaults, **_read(cfg_path)}))
    semantic = [int(cfg.get("semantic_id", 0)) for _, _, cfg in entries]
    synth_ids = [(cfg.get("user_defined") or {}).get("synth_id") for _, _, cfg in entries]
    if all(i is not None for i in synth_ids) and len(set(synth_ids)) == len(synth_ids):  # synth's export
        ids, class_ids = [int(i) for i in synth_ids], [None] * len(entries)
    elif lexicon:  # semantic ids name classes (HSSD, ReplicaCAD): number the instances
        ids, class_ids = list(range(1, len(entries) + 1)), semantic
    elif all(0 < i <= 65535 for i in semantic) and len(set(semantic)) == len(semantic):
        ids, class_ids = semantic, [None] * len(entries)
    else:
        ids, class_ids = list(range(1, len(entries) + 1)), [None] * len(entries)
    objects = [
        _object(cfg_path, cfg, obj, ids[n], class_ids[n], lexicon, root)
        for n, (obj, cfg_path, cfg) in enumerate(entries)
    ]
    rooms = _rooms(data, inst)
    synth = (inst.get("user_defined") or {}).get("synth") or {}
    navigable = [[tuple(p) for p in poly] for poly in synth.get("navigable", [])]
    stage_path = _resolve(data["stages"], inst["stage_instance"]["template_name"], "stage config")
    stage_cfg = {**(data["config"].get("stages", {}).get("default_attributes") or {}), **_read(stage_path)}
    stage = stage_mesh = None
    if not rooms:  # no declared rooms: the stage mesh is the background, its floor the navigable region
        stage = _asset(stage_path, stage_cfg, np.asarray(stage_cfg.get("scale", [1, 1, 1]), dtype=float), root)
        stage_mesh = asset_mesh(stage, str(root))
        navigable = navigable or floor_polygons(stage_mesh)
        if not navigable:
            raise HabitatDatasetError(
                f"{instance_path} declares no rooms (region_annotations) and its stage {Path(stage.uri).name} has no "
                "floor (upward-facing triangles) to plan camera paths on"
            )
    lights = [Light.model_validate(x) for x in (stage_cfg.get("user_defined") or {}).get("synth_lights", [])]
    if not lights:  # Habitat's default lighting: a light under each room's ceiling, or over each floor piece
        top = stage_mesh.vertices[:, 2].max() if stage_mesh is not None else 0.0
        spots = [(*np.mean(r.footprint, axis=0), r.height - 0.3) for r in rooms]
        spots += [(*np.mean(p, axis=0), top - 0.3) for p in ([] if rooms else navigable)]
        lights = [Light(kind="point", position=xyz, energy=400.0, color=(1.0, 1.0, 1.0)) for xyz in spots]
    handle = str(instance_path.relative_to(root))[: -len(".scene_instance.json")]
    return Scene(
        seed=int(synth.get("seed", seed)),
        simulator="habitat",
        reference=f"{path.name}:{handle}",
        rooms=rooms,
        navigable=navigable,
        lights=lights,
        objects=objects,
        stage=stage,
        asset_root=str(root.resolve()),
    )
