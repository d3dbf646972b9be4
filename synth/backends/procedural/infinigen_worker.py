"""Generate Infinigen assets: run by ``synth.backends.procedural.infinigen_assets`` in Infinigen's
own interpreter (``.venv-infinigen``: Infinigen 1.15.5 pins ``bpy==4.2.0``; synth's Blender is
4.5, with which Infinigen's node groups fail or change geometry, see ../shared/notes/infinigen.md).

    python synth/backends/procedural/infinigen_worker.py OUT_DIR JOBS_JSON

``JOBS_JSON``: a list of ``{"key", "factory", "seed", "max_triangles", "bake"}`` and optionally
``"fit": [axis, low, high]`` (``_fit``); ``factory`` is ``module:Class`` under
``infinigen.assets.objects``, or ``synth:Class`` for a factory built here from Infinigen's
(``SYNTH_FACTORIES``). For each job it writes into ``OUT_DIR``:

- ``<key>.glb``: the asset's triangles (glTF 2.0, +Y up as glTF requires);
- ``<key>.blend``: the same mesh as one object named ``<key>`` with Infinigen's materials
  (Blender's own format; Blender 4.5 reads it): with ``bake`` > 0 baked into textures of at
  most ``bake`` x ``bake`` pixels (``_texture_size``, ``_bake``: colour, roughness and emission;
  glass, mirrors and emission strengths as constants), else its procedural node trees; and the
  lights Infinigen puts in the asset (a lamp's bulb: a point light), children of the mesh;
- ``<key>.json``: ``size`` (x, y, z metres: the tight box of the mesh in its own frame, front
  along +X as Infinigen builds furniture), ``triangles``, ``triangles_generated``, ``materials``
  (material name -> share of the surface area), ``optics`` (``_optics`` of the materials that
  transmit, emit or mirror), ``lights`` (``_light_record``), ``baked`` (the job's ``bake``),
  ``texture`` (the side of its textures), ``stray_vertices`` (removed), ``welded_vertices``,
  ``seconds``.

The mesh is cleaned before anything is measured: vertices far outside the bulk of the mesh
(beyond its 1-99 percentile box by more than 25% of that box + 10 cm: Infinigen's bed frame for
seed 0 has vertices up to 1.7 km away, connected to the frame) go with their faces; its open
seams are welded (``_weld``); then it is scaled (with ``fit``), decimated (Blender's Decimate,
collapse) to about ``max_triangles`` (a collapse that would tear the mesh stops short) and moved
so that its box is centred on the origin. It prints one JSON line per finished asset; a failure
prints its traceback and then one line naming the asset to stderr and
exits 1 (files of earlier jobs stay).
"""

from __future__ import annotations

import contextlib
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


def _kitchen_base_cabinet():
    """A kitchen base cabinet with its countertop, as Infinigen's ``KitchenSpaceFactory`` makes
    the lower run (its ``KitchenCabinetFactory`` with drawers or doors, and the countertop
    geometry it adds), sized as one unit of a kitchen run: 0.55-0.65 m deep, 0.6-1.2 m wide,
    0.78-0.86 m tall before the 5 cm top (the factory's own default is a 0.25-0.35 m deep wall
    shelf 1-4 m long)."""
    from infinigen.assets.objects.shelves.kitchen_cabinet import KitchenCabinetFactory
    from infinigen.assets.objects.shelves.kitchen_space import geometry_nodes_add_cabinet_top
    from infinigen.core import surface
    from infinigen.core.util.math import FixedSeed
    from numpy.random import uniform

    class KitchenBaseCabinetFactory(KitchenCabinetFactory):
        def __init__(self, factory_seed, coarse=False):
            with FixedSeed(factory_seed):
                dimensions = (uniform(0.55, 0.65), uniform(0.6, 1.2), uniform(0.78, 0.86))
            # drawer_only: each section gets drawers or doors (else some stay open shelves)
            super().__init__(factory_seed, coarse=coarse, dimensions=dimensions, drawer_only=True)

        def create_asset(self, **params):
            obj = super().create_asset(**params)
            surface.add_geomod(obj, geometry_nodes_add_cabinet_top, apply=True)
            return obj

    return KitchenBaseCabinetFactory


def _potted_plant():
    """Infinigen's ``PlantContainerFactory`` (a pot, potting soil and a plant scaled into it)
    with the plants that take seconds: snake and spider plants (its ferns, succulents and cacti
    take 30 s to 3 minutes and 1-7M triangles each), on flat soil (``FlatSoil``)."""
    from infinigen.assets.objects.small_plants import SnakePlantFactory, SpiderPlantFactory
    from infinigen.assets.objects.tableware.plant_container import PlantContainerFactory

    class FlatSoil:
        """An Infinigen terrain material for the potting soil without the displacement it adds
        as a geometry modifier (12 s on the soil disc, hidden under the plant), and the disc
        un-subdivided (the container subdivides it three times: 800K faces to decimate, 30 s)."""

        def __init__(self, material):
            self.material = material

        def apply(self, obj, **kwargs):
            before = {m.name for m in obj.modifiers}
            self.material.apply(obj, **kwargs)
            for modifier in [m for m in obj.modifiers if m.name not in before]:
                obj.modifiers.remove(modifier)
            coarser = obj.modifiers.new("unsubdivide", "DECIMATE")  # applied by the container
            coarser.decimate_type, coarser.iterations = "UNSUBDIV", 3

    class PottedPlantFactory(PlantContainerFactory):
        plant_factories = [SnakePlantFactory, SpiderPlantFactory]

        def __init__(self, factory_seed, coarse=False):
            super().__init__(factory_seed, coarse)
            self.dirt_surface = FlatSoil(self.dirt_surface)

    return PottedPlantFactory


def _wardrobe():
    """Infinigen's ``SingleCabinetFactory`` (a shelf behind doors: its frame, boards, doors and
    handles) proportioned as a wardrobe: 0.55-0.62 m deep, 0.8-1.2 m wide, 1.8-2.05 m tall
    (the factory's own: 0.25-0.35 m deep, 0.3-0.7 m wide, 0.9-1.8 m tall)."""
    from infinigen.assets.objects.shelves.single_cabinet import SingleCabinetFactory
    from numpy.random import uniform

    class WardrobeFactory(SingleCabinetFactory):
        def sample_params(self):
            super().sample_params()
            x, y, z = uniform(0.55, 0.62), uniform(0.8, 1.2), uniform(1.8, 2.05)
            bottom = self.shelf_params["bottom_board_height"]
            cells = int((z - bottom) / 0.4)
            self.shelf_params.update(
                Dimensions=(x, y, z),
                shelf_depth=x - 0.01,
                shelf_cell_height=[(z - bottom) / cells] * cells,
                shelf_cell_width=[y],
            )
            self.dims = (x, y, z)

    return WardrobeFactory


def _proportioned(module: str, name: str, size: tuple, derived: dict):
    """Infinigen's appliance factory ``module:name``, which draws its depth, width and height
    around 1 m whatever ``dimensions`` it is given (a fridge 1.3 m deep and 1.2 m high), with
    them drawn from ``size`` ((low, high) metres each) and the parameters it derives from them
    (``derived``: parameter -> "Depth", "Width" or "Height") scaled with them."""
    import importlib

    import numpy as np

    base = getattr(importlib.import_module(f"infinigen.assets.objects.{module}"), name)

    class Proportioned(base):
        def __init__(self, factory_seed, coarse=False):
            super().__init__(factory_seed, coarse=coarse)
            rng = np.random.default_rng(factory_seed)
            axes = ("Depth", "Width", "Height")
            ratio = {key: rng.uniform(*span) / self.params[key] for key, span in zip(axes, size)}
            for params in (self.params, getattr(self, "geometry_node_params", {})):
                for key, along in [(k, k) for k in ratio] + list(derived.items()):
                    if key in params:
                        params[key] *= ratio[along]

    Proportioned.__name__ = f"Proportioned{name}"
    return Proportioned


def _refrigerator():
    """Infinigen's ``BeverageFridgeFactory`` at a kitchen fridge's size: 0.62-0.72 m deep,
    0.6-0.85 m wide, 1.55-1.85 m high (before its door)."""
    return _proportioned(
        "appliances",
        "BeverageFridgeFactory",
        ((0.62, 0.72), (0.6, 0.85), (1.55, 1.85)),
        {"DoorThickness": "Depth", "RackRadius": "Depth"},
    )


def _oven():
    """Infinigen's ``OvenFactory`` (a range: oven, hob and a control panel at the back) at a
    home's size: 0.55-0.62 m deep, 0.58-0.76 m wide, 0.82-0.88 m high to the hob."""
    return _proportioned(
        "appliances",
        "OvenFactory",
        ((0.55, 0.62), (0.58, 0.76), (0.82, 0.88)),
        {
            "DoorThickness": "Depth",
            "RackRadius": "Depth",
            "PanelHeight": "Height",
            "PanelThickness": "Depth",
            "BottonRadius": "Width",
            "BottonThickness": "Depth",
        },
    )


# factory "synth:<name>": factories composed here from Infinigen's
SYNTH_FACTORIES = {
    "BedWithoutClothFactory": _bed_without_cloth,
    "KitchenBaseCabinetFactory": _kitchen_base_cabinet,
    "PottedPlantFactory": _potted_plant,
    "WardrobeFactory": _wardrobe,
    "RefrigeratorFactory": _refrigerator,
    "OvenFactory": _oven,
}


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


def _weld(obj) -> int:
    """Merge coincident vertices (less than 0.01 mm apart) and return how many went: Infinigen
    builds parts such as seats from pieces that meet without sharing vertices, and a collapse
    decimation tears such seams (an office chair's seat turned into spikes 1.4 m wide). A
    welded seam that bends by more than 30 degrees is marked sharp, so that it shades as the
    hard edge it was."""
    import math

    import bmesh
    import numpy as np

    co = np.empty(3 * len(obj.data.vertices))
    obj.data.vertices.foreach_get("co", co)
    _, first, count = np.unique(np.round(co.reshape(-1, 3) / 1e-5), axis=0, return_inverse=True, return_counts=True)
    twinned = count[first.ravel()] > 1
    if not twinned.any():
        return 0
    bm = bmesh.new()
    bm.from_mesh(obj.data)
    bm.verts.ensure_lookup_table()
    seam = bm.verts.layers.int.new("synth_seam")
    for i in np.flatnonzero(twinned):
        bm.verts[i][seam] = 1
    before = len(bm.verts)
    bmesh.ops.remove_doubles(bm, verts=[bm.verts[i] for i in np.flatnonzero(twinned)], dist=1e-5)
    for e in bm.edges:
        if e.verts[0][seam] and e.verts[1][seam] and e.is_manifold and e.calc_face_angle(0.0) > math.radians(30):
            e.smooth = False
    welded = before - len(bm.verts)
    bm.verts.layers.int.remove(seam)
    bm.to_mesh(obj.data)
    bm.free()
    return welded


def _fit(obj, fit: list, seed: int) -> float:
    """Scale the mesh uniformly so that its extent along axis ``fit[0]`` (0 x, 1 y, 2 z; -1 the
    largest of the three) is drawn from [``fit[1]``, ``fit[2]``] metres (a generator of
    ``seed``): for factories that make the object at a size homes do not have it (Infinigen's
    rugs are 2-9 m long, its microwaves up to 1 m wide). Returns the scale factor."""
    import numpy as np
    from mathutils import Matrix

    axis, lo, hi = int(fit[0]), float(fit[1]), float(fit[2])
    co = np.array([v.co[:] for v in obj.data.vertices])
    extent = co.max(axis=0) - co.min(axis=0)
    scale = float(np.random.default_rng(seed).uniform(lo, hi) / (extent.max() if axis < 0 else extent[axis]))
    obj.data.transform(Matrix.Scale(scale, 4))
    obj.data.update()
    return scale


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
    lights = [o for o in (obj, *obj.children_recursive) if o.type == "LIGHT"]  # a lamp's bulb
    bulbs = [o.matrix_world.translation.copy() for o in lights]  # the frame of the joined mesh
    obj = _one_mesh(bpy, obj)
    stray = _clean(bpy, obj)
    welded = _weld(obj)
    scale = _fit(obj, job["fit"], job["seed"]) if job.get("fit") else 1.0
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
    texture = _texture_size(obj, job["bake"]) if job.get("bake", 0) else 0
    optics = _bake(bpy, obj, texture) if texture else {}
    for k, (light, at) in enumerate(zip(lights, bulbs)):  # kept in the .blend, posed with the mesh
        light.name = f"{key}.light{k}"
        light.parent = obj
        light.matrix_parent_inverse.identity()
        light.location, light.rotation_euler, light.scale = tuple(scale * np.asarray(at) - centre), (0, 0, 0), (1, 1, 1)
    bpy.data.libraries.write(str(out / f"{key}.blend"), {obj, *lights}, fake_user=True, compress=True)
    record = {
        "key": key,
        "factory": job["factory"],
        "seed": job["seed"],
        "size": [round(float(v), 4) for v in hi - lo],
        "triangles": triangles,
        "triangles_generated": generated,
        "materials": materials,
        "optics": {name: o for name, o in optics.items() if o["transmission"] or o["emission"] or o["mirror"]},
        "lights": [_light_record(light) for light in lights],
        "baked": job.get("bake", 0),
        "texture": texture,
        "stray_vertices": stray,
        "welded_vertices": welded,
        "seconds": round(time.perf_counter() - t, 3),
    }
    (out / f"{key}.json").write_text(json.dumps(record, indent=1, sort_keys=True))
    for light in lights:
        bpy.data.objects.remove(light)
    bpy.data.objects.remove(obj)  # the next asset starts from an empty scene
    return record


METALS = ("metal", "steel", "aluminum", "brass", "chrome", "iron", "copper", "gold", "silver")
CLEAR = ("BSDF_GLASS", "BSDF_REFRACTION")  # shader nodes that transmit light (glass)
MIRROR = ("BSDF_GLOSSY", "BSDF_ANISOTROPIC")  # shader nodes that only reflect (mirrors, black glass)
EMITTERS = ("EMISSION", "BSDF_PRINCIPLED")  # shader nodes with an emission strength
WEAR = "wear_tear"  # label of the Mix Shader that Infinigen's edge wear puts over a material


def _through(socket, groups: tuple = ()):
    """The input socket that decides ``socket``'s value, through reroutes and out of node
    groups (a Group Input socket stands for the group node's socket): (socket, the group nodes
    it is inside, outermost first)."""
    while socket.is_linked:
        link = socket.links[0]
        if link.from_node.type == "REROUTE":
            socket = link.from_node.inputs[0]
        elif link.from_node.type == "GROUP_INPUT" and groups:
            socket = next(s for s in groups[-1].inputs if s.identifier == link.from_socket.identifier)
            groups = groups[:-1]
        else:
            break
    return socket, groups


def _source(socket, groups: tuple = ()):
    """The node whose output feeds ``socket``, looking into node groups (a group's output is
    what its Group Output node receives): (node, its output socket, the group nodes it is
    inside), or None when nothing feeds it."""
    while True:
        socket, groups = _through(socket, groups)
        if not socket.is_linked:
            return None
        link = socket.links[0]
        node = link.from_node
        if node.type != "GROUP" or node.node_tree is None:
            return node, link.from_socket, groups
        out = next(n for n in node.node_tree.nodes if n.type == "GROUP_OUTPUT" and n.is_active_output)
        socket = next(s for s in out.inputs if s.identifier == link.from_socket.identifier)
        groups = (*groups, node)


def _constant(socket, groups: tuple, default):
    """The socket's value when it is a constant (nothing linked, through groups), else ``default``."""
    socket, _ = _through(socket, groups)
    return default if socket.is_linked else socket.default_value


def _camera_share(socket, groups: tuple) -> float:
    """How much of a Mix Shader's second shader the camera sees, from its Fac socket: a
    constant as is; Light Path's "Is Camera Ray" 1 and its other "Is ... Ray" outputs 0
    (Infinigen's lamp shades show the camera another shader than the light); else 0.5."""
    source = _source(socket, groups)
    if source is None:
        return min(max(float(_constant(socket, groups, 0.5)), 0.0), 1.0)
    node, output, _ = source
    if node.type == "LIGHT_PATH" and output.name.startswith("Is "):
        return 1.0 if output.name == "Is Camera Ray" else 0.0
    return 0.5


def _shader_leaves(socket, groups: tuple = (), weight: float = 1.0) -> list:
    """The shader nodes behind a shader socket, through Mix and Add Shader nodes, reroutes and
    node groups, with the share of the surface the camera sees of each: [(node, groups, share)].
    Infinigen's edge wear (worn edges and scratches, a small part of the surface) counts as
    the material under it."""
    source = _source(socket, groups)
    if source is None or weight <= 0.0:
        return []
    node, _, groups = source
    if node.type == "MIX_SHADER" and node.label == WEAR:  # Mix(Mix(material, worn), scratched)
        under = _source(node.inputs[1], groups)
        if under is not None and under[0].type == "MIX_SHADER":
            return _shader_leaves(under[0].inputs[1], under[2], weight)
        return _shader_leaves(node.inputs[1], groups, weight)
    if node.type == "MIX_SHADER":
        share = _camera_share(node.inputs[0], groups)
        return _shader_leaves(node.inputs[1], groups, weight * (1 - share)) + _shader_leaves(
            node.inputs[2], groups, weight * share
        )
    if node.type == "ADD_SHADER":
        return _shader_leaves(node.inputs[0], groups, weight) + _shader_leaves(node.inputs[1], groups, weight)
    return [(node, groups, weight)]


def _emission_strength(node, groups: tuple) -> float:
    """The emission strength of an Emission node or a Principled BSDF (0 without an emission
    colour)."""
    if node.type == "EMISSION":
        return float(_constant(node.inputs["Strength"], groups, 1.0))
    colour = node.inputs["Emission Color"]
    if _source(colour, groups) is None and not any(_constant(colour, groups, (0.0,))[:3]):
        return 0.0
    return float(_constant(node.inputs["Emission Strength"], groups, 1.0))


def _optics(material) -> dict:
    """What a node material looks like beyond its colour and roughness, from the shader nodes
    that reach its output's Surface (``_shader_leaves``), each weighted by the share the camera
    sees: ``metallic`` (Principled BSDF's, Glossy BSDFs 1; a metallic driven by a texture: 1
    where the material's name says metal, else 0), ``transmission`` (0-1: Glass and Refraction
    BSDFs 1, Principled BSDF's "Transmission Weight") and its ``ior``, ``alpha`` (0-1:
    Transparent BSDFs 0, Principled BSDF's "Alpha"), ``emission`` (strength of Emission nodes
    and of Principled BSDFs with an emission colour), ``mirror`` and ``clear`` (the shares of
    Glossy and of Glass BSDFs); where these two make half of the surface or more, the constant
    ``color`` (RGB) and ``roughness`` of those BSDFs, which a bake of the diffuse colour does
    not see (it makes glass and mirrors black)."""
    out = material.node_tree.get_output_node("CYCLES") if material.use_nodes else None
    leaves = _shader_leaves(out.inputs["Surface"]) if out is not None else []
    optics = {"metallic": 0.0, "transmission": 0.0, "ior": 1.5, "alpha": 1.0, "emission": 0.0, "mirror": 0.0}
    optics["clear"] = 0.0
    metal = 1.0 if any(m in material.name.lower() for m in METALS) else 0.0
    total = sum(w for node, _, w in leaves if node.type != "EMISSION")
    color, roughness = [0.0, 0.0, 0.0], 0.0
    for node, groups, w in leaves:
        if node.type in EMITTERS:
            optics["emission"] = max(optics["emission"], _emission_strength(node, groups))
        if node.type == "EMISSION" or total <= 0.0:
            continue
        w /= total
        if node.type == "BSDF_PRINCIPLED":
            optics["metallic"] += w * float(_constant(node.inputs["Metallic"], groups, metal))
            transmission = float(_constant(node.inputs["Transmission Weight"], groups, 0.0))
            optics["transmission"] += w * transmission
            if transmission > 0.0:
                optics["ior"] = float(_constant(node.inputs["IOR"], groups, 1.5))
            optics["alpha"] -= w * (1.0 - float(_constant(node.inputs["Alpha"], groups, 1.0)))
        elif node.type in CLEAR or node.type in MIRROR:
            if node.type in CLEAR:
                optics["clear"] += w
                optics["transmission"] += w
                optics["ior"] = float(_constant(node.inputs["IOR"], groups, 1.5))
            else:
                optics["mirror"] += w
                optics["metallic"] += w
            rgb = _constant(node.inputs["Color"], groups, (0.8, 0.8, 0.8))[:3]
            color = [c + w * float(v) for c, v in zip(color, rgb)]
            roughness += w * float(_constant(node.inputs["Roughness"], groups, 0.2))
        elif node.type == "BSDF_TRANSPARENT":
            optics["alpha"] -= w
    if total <= 0.0:
        optics["metallic"] = metal
    share = optics["clear"] + optics["mirror"]
    if share >= 0.5:
        optics["color"] = [round(c / share, 4) for c in color]
        optics["roughness"] = roughness / share
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in optics.items()}


@contextlib.contextmanager
def _set_inputs(values: list):
    """Set input sockets [(socket, value)] to constants (unlinking them) while baking; put back
    the values and links afterwards (node groups are shared between assets of a process)."""
    saved = []
    for socket, value in values:
        tree = socket.id_data
        old = socket.default_value
        old = tuple(old) if hasattr(old, "__len__") else old
        saved.append((socket, old, [link.from_socket for link in socket.links]))
        for link in list(socket.links):
            tree.links.remove(link)
        socket.default_value = value
    try:
        yield
    finally:
        for socket, value, sources in reversed(saved):
            socket.default_value = value
            for source in sources:
                socket.id_data.links.new(source, socket)


def _bake_inputs(materials: list, kind: str) -> list:
    """The inputs to set while baking ``kind``: for the colour, metallic and transmission 0 (a
    diffuse colour bake sees neither metal nor glass: both would come out black); for the
    emission, strength 1 where there is emission (the baked material gets the strength)."""
    values = []
    for material in materials:
        out = material.node_tree.get_output_node("CYCLES")
        for node, groups, _ in _shader_leaves(out.inputs["Surface"]) if out is not None else []:
            if kind == "color" and node.type == "BSDF_PRINCIPLED":
                for name in ("Metallic", "Transmission Weight"):
                    values.append((_through(node.inputs[name], groups)[0], 0.0))
            elif kind == "emission" and node.type in EMITTERS and _emission_strength(node, groups):
                name = "Strength" if node.type == "EMISSION" else "Emission Strength"
                values.append((_through(node.inputs[name], groups)[0], 1.0))
    return values


def _texture_size(obj, largest: int) -> int:
    """The side (pixels) of the textures an asset is baked into: 512 per metre of the square
    root of its surface area, a power of two from 64 to ``largest`` (a book's 0.05 m2 get 128
    pixels, a sofa's 6 m2 the largest; baking costs per pixel: 11-17 s for a book at 512)."""
    import numpy as np

    area = np.empty(len(obj.data.polygons))
    obj.data.polygons.foreach_get("area", area)
    side = 2 ** int(np.ceil(np.log2(max(float(np.sqrt(area.sum())) * 512, 1.0))))
    return int(min(max(side, 64), largest))


def _bake(bpy, obj, size: int) -> dict:
    """Replace Infinigen's node materials, evaluated at every render sample, by what they look
    like: base colour and roughness baked (Cycles, albedo only, no lighting) into two
    ``size`` x ``size`` textures on a new UV map, and the emission colour into a third where a
    material emits, packed into the .blend. Each material slot keeps its name and gets a
    Principled BSDF on those textures with what ``_optics`` reads from its nodes: metallic,
    transmission and IOR (glass), alpha, emission strength, and for glass and mirrors their
    constant colour and roughness. Returns ``_optics`` per material name."""
    import math

    bpy.ops.object.select_all(action="DESELECT")
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    uv = obj.data.uv_layers.new(name="baked")
    obj.data.uv_layers.active = uv
    uv_name = uv.name  # read now: the mode switches below reallocate the layers (``uv`` dangles)
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="SELECT")
    bpy.ops.uv.smart_project(angle_limit=math.radians(66), island_margin=0.01)
    bpy.ops.object.mode_set(mode="OBJECT")
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples = "CPU", 1
    materials = [s.material for s in obj.material_slots if s.material is not None and s.material.use_nodes]
    optics = {m.name: _optics(m) for m in materials}
    passes = [("color", "DIFFUSE", {"pass_filter": {"COLOR"}}), ("roughness", "ROUGHNESS", {})]
    if any(o["emission"] > 0.0 for o in optics.values()):
        passes.append(("emission", "EMIT", {}))
    images = {}
    for kind, bake_type, options in passes:
        image = bpy.data.images.new(f"{obj.name}.{kind}", size, size, is_data=kind == "roughness")
        for material in materials:
            node = material.node_tree.nodes.new("ShaderNodeTexImage")
            node.image = image
            material.node_tree.nodes.active = node
        with _set_inputs(_bake_inputs(materials, kind)):
            bpy.ops.object.bake(type=bake_type, margin=4, **options)
        image.pack()
        images[kind] = image
    for slot in obj.material_slots:
        if slot.material is None:
            continue
        name = slot.material.name
        o = optics.get(name) or _optics(slot.material)
        slot.material.name = f"{name}.procedural"
        baked = bpy.data.materials.new(name)
        baked.use_nodes = True
        nodes, links = baked.node_tree.nodes, baked.node_tree.links
        bsdf = nodes["Principled BSDF"]
        coords = nodes.new("ShaderNodeUVMap")
        coords.uv_map = uv_name
        textured = [("color", "Base Color"), ("roughness", "Roughness")] if "color" not in o else []
        textured += [("emission", "Emission Color")] if o["emission"] > 0.0 else []
        for kind, socket in reversed(textured):  # the colour last: the active node (viewports show it)
            tex = nodes.new("ShaderNodeTexImage")
            tex.image = images[kind]
            links.new(coords.outputs["UV"], tex.inputs["Vector"])
            links.new(tex.outputs["Color"], bsdf.inputs[socket])
            nodes.active = tex
        if "color" in o:  # glass, mirrors
            bsdf.inputs["Base Color"].default_value = (*o["color"], 1.0)
            bsdf.inputs["Roughness"].default_value = o["roughness"]
        bsdf.inputs["Metallic"].default_value = o["metallic"]
        bsdf.inputs["Transmission Weight"].default_value = o["transmission"]
        bsdf.inputs["IOR"].default_value = o["ior"]
        bsdf.inputs["Alpha"].default_value = o["alpha"]
        bsdf.inputs["Emission Strength"].default_value = o["emission"]
        slot.material = baked
    return optics


def _light_record(light) -> dict:
    """A lamp's light as the record gives it: position (metres, the asset's frame), kind,
    watts, radius (metres) and colour temperature (kelvin, from its Blackbody node; None
    without one)."""
    kelvin = None
    if light.data.use_nodes:
        kelvin = next((float(n.inputs["Temperature"].default_value) for n in light.data.node_tree.nodes
                       if n.type == "BLACKBODY"), None)  # fmt: skip
    return {
        "position": [round(float(v), 4) for v in light.location],
        "kind": light.data.type.lower(),
        "watts": round(float(light.data.energy), 3),
        "radius": round(float(getattr(light.data, "shadow_soft_size", 0.0)), 4),
        "kelvin": None if kelvin is None else round(kelvin, 1),
    }


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
