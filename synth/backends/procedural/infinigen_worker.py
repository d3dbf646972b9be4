"""Generate Infinigen assets: run by ``sim_adapters.infinigen_assets`` in Infinigen's own
interpreter (``.venv-infinigen``: Infinigen 1.15.5 pins ``bpy==4.2.0``; synth's Blender is 4.5,
with which Infinigen's node groups fail or change geometry, see ../shared/notes/infinigen.md).

    python sim_adapters/infinigen_worker.py OUT_DIR JOBS_JSON

``JOBS_JSON``: a list of ``{"key", "factory", "seed", "max_triangles", "bake"}``; ``factory`` is
``module:Class`` under ``infinigen.assets.objects``, or ``synth:Class`` for a factory built here
from Infinigen's (``SYNTH_FACTORIES``). For each job it writes into ``OUT_DIR``:

- ``<key>.glb``: the asset's triangles (glTF 2.0, +Y up as glTF requires);
- ``<key>.blend``: the same mesh as one object named ``<key>`` with Infinigen's materials
  (Blender's own format; Blender 4.5 reads it): with ``bake`` > 0 baked into ``bake`` x ``bake``
  colour and roughness textures (``_bake``), else its procedural node trees;
- ``<key>.json``: ``size`` (x, y, z metres: the tight box of the mesh in its own frame, front
  along +X as Infinigen builds furniture), ``triangles``, ``triangles_generated``, ``materials``
  (material name -> share of the surface area), ``stray_vertices`` (removed), ``seconds``.

The mesh is cleaned before anything is measured: vertices far outside the bulk of the mesh
(beyond its 1-99 percentile box by more than 25% of that box + 10 cm: Infinigen's bed frame for
seed 0 has vertices up to 1.7 km away, connected to the frame) go with their faces; then it is
decimated (Blender's Decimate, collapse) to about ``max_triangles`` (a collapse that would tear
the mesh stops short) and moved so that its box is centred on the origin. It prints one JSON line per
finished asset; a failure prints its traceback and then one line naming the asset to stderr and
exits 1 (files of earlier jobs stay).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path


def _setup() -> None:
    import infinigen_examples
    from infinigen.core import init

    root = Path(infinigen_examples.__file__).parent
    init.apply_gin_configs([str(root / "configs_indoor"), str(root / "configs_nature")], skip_unknown=True)
    init.configure_blender()


def _bed_without_cloth():
    """Infinigen's ``BedFactory`` without what it simulates as cloth (its sheet and cover, and
    the wrapped mattress: more than 8 minutes per bed on 2 cores): its frame, a coiled mattress,
    pillows and a towel, composed and placed by Infinigen's own code."""
    from infinigen.assets.objects.seating.bed import BedFactory

    class BedWithoutClothFactory(BedFactory):
        mattress_types = "weighted_choice", (1, "coiled")

        def make_sheet(self, i, mattress, obj):
            return mattress  # no sheet: the pillows and the towel lie on the mattress

        def make_cover(self, i, sheet, mattress):
            return mattress

    return BedWithoutClothFactory


SYNTH_FACTORIES = {"BedWithoutClothFactory": _bed_without_cloth}  # factory "synth:<name>"


def _factory(name: str, seed: int):
    import importlib

    from infinigen.core.util.math import FixedSeed

    module, cls = name.split(":")
    if module == "synth":
        factory_cls = SYNTH_FACTORIES[cls]()
    else:
        factory_cls = getattr(importlib.import_module(f"infinigen.assets.objects.{module}"), cls)
    with FixedSeed(seed):
        return factory_cls(seed)


def _one_mesh(bpy, obj):
    """The asset as one mesh object with every modifier applied (children joined in)."""
    parts = [obj, *obj.children_recursive]
    bpy.ops.object.select_all(action="DESELECT")
    for o in parts:
        if o.type == "MESH":
            o.hide_set(False)
            o.select_set(True)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.convert(target="MESH")
    if len([o for o in parts if o.type == "MESH"]) > 1:
        bpy.ops.object.join()
    obj = bpy.context.view_layer.objects.active
    obj.parent = None
    bpy.ops.object.transform_apply(location=True, rotation=True, scale=True)
    return obj


def _clean(bpy, obj) -> int:
    """Delete stray vertices (see the module docstring); return how many went."""
    import bmesh
    import numpy as np

    co = np.array([v.co[:] for v in obj.data.vertices])
    lo, hi = np.percentile(co, 1.0, axis=0), np.percentile(co, 99.0, axis=0)
    margin = 0.25 * (hi - lo) + 0.1
    far = np.any((co < lo - margin) | (co > hi + margin), axis=1)
    if far.any():
        bm = bmesh.new()
        bm.from_mesh(obj.data)
        bm.verts.ensure_lookup_table()
        bmesh.ops.delete(bm, geom=[bm.verts[i] for i in np.flatnonzero(far)], context="VERTS")
        bm.to_mesh(obj.data)
        bm.free()
    return int(far.sum())


def _triangulate_and_decimate(bpy, obj, max_triangles: int) -> tuple[int, int]:
    tri = obj.modifiers.new("triangulate", "TRIANGULATE")
    bpy.ops.object.modifier_apply(modifier=tri.name)
    generated = len(obj.data.polygons)
    for _ in range(4):  # a collapse stops short of the ratio where it would tear the mesh
        n = len(obj.data.polygons)
        if n <= max_triangles:
            break
        dec = obj.modifiers.new("decimate", "DECIMATE")
        dec.decimate_type, dec.ratio = "COLLAPSE", max_triangles / n
        bpy.ops.object.modifier_apply(modifier=dec.name)
        tri = obj.modifiers.new("triangulate", "TRIANGULATE")
        bpy.ops.object.modifier_apply(modifier=tri.name)
    return generated, len(obj.data.polygons)


def _materials(obj) -> dict[str, float]:
    import numpy as np

    n = len(obj.data.polygons)
    area, index = np.empty(n), np.empty(n, np.int32)
    obj.data.polygons.foreach_get("area", area)
    obj.data.polygons.foreach_get("material_index", index)
    total = float(area.sum()) or 1.0
    out: dict[str, float] = {}
    for k, slot in enumerate(obj.material_slots):
        if slot.material is not None:
            share = float(area[index == k].sum()) / total
            out[slot.material.name] = round(out.get(slot.material.name, 0.0) + share, 4)
    return out


def generate(out: Path, job: dict) -> dict:
    import bpy
    import numpy as np

    t = time.perf_counter()
    bpy.ops.object.select_all(action="DESELECT")
    factory = _factory(job["factory"], job["seed"])
    obj = factory.spawn_asset(job["seed"])
    factory.finalize_assets(obj)
    obj = _one_mesh(bpy, obj)
    stray = _clean(bpy, obj)
    generated, triangles = _triangulate_and_decimate(bpy, obj, job["max_triangles"])
    co = np.array([v.co[:] for v in obj.data.vertices])
    lo, hi = co.min(axis=0), co.max(axis=0)
    centre = (lo + hi) / 2
    obj.data.transform(_translation(-centre))
    obj.data.update()
    key = job["key"]
    obj.name = obj.data.name = key
    bpy.ops.object.select_all(action="DESELECT")
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.export_scene.gltf(filepath=str(out / f"{key}.glb"), export_format="GLB", use_selection=True)
    materials = _materials(obj)
    if job.get("bake", 0):
        _bake(bpy, obj, job["bake"])
    bpy.data.libraries.write(str(out / f"{key}.blend"), {obj}, fake_user=True, compress=True)
    record = {
        "key": key,
        "factory": job["factory"],
        "seed": job["seed"],
        "size": [round(float(v), 4) for v in hi - lo],
        "triangles": triangles,
        "triangles_generated": generated,
        "materials": materials,
        "baked": job.get("bake", 0),
        "stray_vertices": stray,
        "seconds": round(time.perf_counter() - t, 3),
    }
    (out / f"{key}.json").write_text(json.dumps(record, indent=1, sort_keys=True))
    bpy.data.objects.remove(obj)  # the next asset starts from an empty scene
    return record


METALS = ("metal", "steel", "aluminum", "brass", "chrome", "iron", "copper", "gold", "silver")


def _bake(bpy, obj, size: int) -> None:
    """Replace Infinigen's node materials, evaluated at every render sample, by what they look
    like: base colour and roughness baked (Cycles, albedo only, no lighting) into two
    ``size`` x ``size`` textures on a new UV map, packed into the .blend. Each material slot keeps
    its name and gets a Principled BSDF on those textures, metallic where its name says metal."""
    import math

    bpy.ops.object.select_all(action="DESELECT")
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    uv = obj.data.uv_layers.new(name="baked")
    obj.data.uv_layers.active = uv
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="SELECT")
    bpy.ops.uv.smart_project(angle_limit=math.radians(66), island_margin=0.01)
    bpy.ops.object.mode_set(mode="OBJECT")
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples = "CPU", 1
    images = {}
    for kind, bake_type, options in (("color", "DIFFUSE", {"pass_filter": {"COLOR"}}), ("roughness", "ROUGHNESS", {})):
        image = bpy.data.images.new(f"{obj.name}.{kind}", size, size, is_data=kind != "color")
        for slot in obj.material_slots:
            if slot.material is not None and slot.material.use_nodes:
                node = slot.material.node_tree.nodes.new("ShaderNodeTexImage")
                node.image = image
                slot.material.node_tree.nodes.active = node
        bpy.ops.object.bake(type=bake_type, margin=4, **options)
        image.pack()
        images[kind] = image
    for slot in obj.material_slots:
        if slot.material is None:
            continue
        name = slot.material.name
        slot.material.name = f"{name}.procedural"
        baked = bpy.data.materials.new(name)
        baked.use_nodes = True
        nodes, links = baked.node_tree.nodes, baked.node_tree.links
        bsdf = nodes["Principled BSDF"]
        coords = nodes.new("ShaderNodeUVMap")
        coords.uv_map = uv.name
        for kind, socket in (("color", "Base Color"), ("roughness", "Roughness")):
            tex = nodes.new("ShaderNodeTexImage")
            tex.image = images[kind]
            links.new(coords.outputs["UV"], tex.inputs["Vector"])
            links.new(tex.outputs["Color"], bsdf.inputs[socket])
        bsdf.inputs["Metallic"].default_value = 1.0 if any(m in name.lower() for m in METALS) else 0.0
        slot.material = baked


def _translation(offset):
    from mathutils import Matrix

    return Matrix.Translation(tuple(float(v) for v in offset))


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: infinigen_worker.py OUT_DIR JOBS_JSON", file=sys.stderr)
        return 2
    out, jobs = Path(argv[0]), json.loads(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    real_stdout = os.dup(1)
    os.dup2(2, 1)  # Infinigen and Blender print to stdout; our records alone go there
    try:
        _setup()
        for job in jobs:
            try:
                record = generate(out, job)
            except Exception as e:  # one line naming the asset, for synth's error
                traceback.print_exc()  # for the record; synth reads the last line
                print(f"infinigen {job['factory']} seed {job['seed']}: {type(e).__name__}: {e}", file=sys.stderr)
                return 1
            os.write(real_stdout, (json.dumps(record) + "\n").encode())
    finally:
        os.dup2(real_stdout, 1)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # Blender 4.2's teardown can crash after the work is done
