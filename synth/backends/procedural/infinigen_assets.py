"""Infinigen furniture for the procedural sampler (``--assets infinigen``), cached on disk.

Infinigen (Princeton, BSD-3, "Infinigen Indoors") generates furniture and household objects
procedurally in Blender, with procedural materials. It pins ``bpy==4.2.0`` while synth renders
with Blender 4.5, so assets are made in Infinigen's own interpreter
(``synth/backends/procedural/infinigen_worker.py``; ``.venv-infinigen``, made by
``infra/bootstrap.sh --infinigen``, or ``$SYNTH_INFINIGEN_PYTHON``) and kept in
``$SYNTH_CACHE/infinigen/<generator digest>/``: per asset a glTF file (the triangles: depth, ids,
boxes and the z-buffer use it), a ``.blend`` with the same mesh and Infinigen's materials (what
Blender renders) and a JSON record (size, triangles, materials).

A category has ``variants`` assets (Infinigen seeds 0..variants-1, the scene's random stream
picks one), generated once per machine and generator version, so a run does not regenerate
them. Where Infinigen makes an object at a size homes do not have it (its rugs are 2-9 m long,
its microwaves up to 1 m wide), ``FIT`` scales it uniformly into a range (its fridges and ovens,
1 m cubes, get a home's proportions in ``infinigen_worker``). Infinigen has no factory for
trash bins, storage boxes or laptops: those categories keep synth's primitive parts.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from synth.backends.procedural.settings import ASSET_VARIANTS
from synth.core.cache import cache_root
from synth.core.plugin import BackendUnavailable
from synth.core.scene import MeshAsset

INFINIGEN_VERSION = "1.15.5"
WORKER = Path(__file__).with_name("infinigen_worker.py")
VENV_PYTHON = Path(__file__).resolve().parents[3] / ".venv-infinigen" / "bin" / "python"
MAX_TRIANGLES = 20_000  # per asset, after decimation (Infinigen's chairs come with ~200K)
BAKE = 512  # largest texture size the materials are baked to (0: keep the procedural node trees)

# synth category -> Infinigen factory (module under infinigen.assets.objects : class; "synth:" a
# factory composed from Infinigen's in infinigen_worker.SYNTH_FACTORIES). Front along +X.
FACTORIES: dict[str, str] = {
    "bed": "synth:BedWithoutClothFactory",  # Infinigen's bed without its cloth simulation (infinigen_worker)
    "sofa": "seating:SofaFactory",
    "armchair": "seating:ArmChairFactory",
    "chair": "seating:ChairFactory",
    "office chair": "seating:OfficeChairFactory",
    "stool": "seating:BarChairFactory",
    "dining table": "tables:TableDiningFactory",
    "coffee table": "tables:CoffeeTableFactory",
    "desk": "shelves:SimpleDeskFactory",
    "nightstand": "tables:SideTableFactory",
    "bookshelf": "shelves:SimpleBookcaseFactory",
    "cabinet": "shelves:SingleCabinetFactory",
    "wardrobe": "synth:WardrobeFactory",  # Infinigen's single cabinet proportioned as a wardrobe
    "kitchen cabinet": "synth:KitchenBaseCabinetFactory",  # one base unit with its countertop
    "tv stand": "shelves:TVStandFactory",
    "refrigerator": "synth:RefrigeratorFactory",  # Infinigen's beverage fridge at a kitchen fridge's size
    "oven": "synth:OvenFactory",  # Infinigen's range (oven, hob, control panel) at a home's size
    "microwave": "appliances:MicrowaveFactory",
    "toilet": "bathroom:ToiletFactory",
    "bathtub": "bathroom:BathtubFactory",
    "sink": "bathroom:StandingSinkFactory",  # a pedestal sink (BathroomSinkFactory's stand on nothing)
    "floor lamp": "lamp:FloorLampFactory",
    "television": "appliances:TVFactory",
    "monitor": "appliances:MonitorFactory",
    "table lamp": "lamp:DeskLampFactory",
    "vase": "table_decorations:VaseFactory",
    "bowl": "tableware:BowlFactory",
    "cup": "tableware:CupFactory",
    "plate": "tableware:PlateFactory",
    "bottle": "tableware:BottleFactory",
    "book": "table_decorations:BookFactory",  # lying flat
    "plant": "synth:PottedPlantFactory",  # a snake or spider plant in a pot (seconds, not minutes)
    "rug": "elements:RugFactory",
    "wall art": "wall_decorations:WallArtFactory",  # back on x = min, the picture faces +X
    "mirror": "wall_decorations:MirrorFactory",
}

# category -> (axis 0 x / 1 y / 2 z / -1 the largest, low, high): the extent (metres) the asset is scaled to,
# uniformly, drawn per seed (Infinigen's own sizes are not those of homes there)
FIT: dict[str, tuple[int, float, float]] = {
    "microwave": (1, 0.45, 0.6),  # 0.6-1.0 m wide
    "rug": (0, 1.2, 2.8),  # 2-9 m long
    "stool": (2, 0.62, 0.8),  # bar chairs 0.7-1.0 m high
    "cup": (-1, 0.09, 0.14),  # tumblers 0.2 m high, teacups 0.2 m wide with the handle
}

# words for Infinigen's material (shader) names, first match wins: "shader_rough_plastic" -> plastic
MATERIAL_WORDS: tuple[tuple[str, str], ...] = (
    ("leather", "leather"),
    ("fabric", "fabric"),
    ("velvet", "fabric"),
    ("knit", "fabric"),
    ("wood", "wooden"),
    ("glass", "glass"),
    ("ceramic", "ceramic"),
    ("porcelain", "ceramic"),
    ("marble", "marble"),
    ("metal", "metal"),
    ("steel", "metal"),
    ("aluminum", "metal"),
    ("brass", "metal"),
    ("plastic", "plastic"),
)

# glTF files are +Y up; the asset's own frame is +Z up: (x, y, z)_gltf -> (x, -z, y)
GLTF_TO_LOCAL = ((1.0, 0.0, 0.0, 0.0), (0.0, 0.0, -1.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))


@dataclass(frozen=True)
class Asset:
    """One generated asset: its files and what the worker measured."""

    category: str
    key: str
    size: tuple[float, float, float]  # metres, tight box in the asset's frame (front along +X)
    triangles: int
    materials: dict[str, float]  # Infinigen material name -> share of the surface area
    glb: Path
    blend: Path

    @property
    def material_word(self) -> str:
        """The word for the material covering most of the surface ("wooden", "fabric"), or ""."""
        for name, _ in sorted(self.materials.items(), key=lambda kv: -kv[1]):
            for needle, word in MATERIAL_WORDS:
                if needle in name.lower():
                    return word
        return ""

    def mesh(self) -> MeshAsset:
        return MeshAsset(uri=str(self.glb), blend=str(self.blend), transform=GLTF_TO_LOCAL)


@functools.cache
def _digest() -> str:
    """The generator's identity: the worker, Infinigen's version, the settings, the factories and
    sizes (read once per process: the worker file does not change under a run)."""
    h = hashlib.sha256(WORKER.read_bytes())
    h.update(f"{INFINIGEN_VERSION} {MAX_TRIANGLES} {BAKE}".encode())
    h.update(json.dumps([FACTORIES, FIT], sort_keys=True).encode())
    return h.hexdigest()[:12]


def cache_dir() -> Path:
    return cache_root() / "infinigen" / _digest()


def infinigen_python() -> str:
    """The interpreter with Infinigen: ``$SYNTH_INFINIGEN_PYTHON``, else ``.venv-infinigen``;
    ``BackendUnavailable`` saying how to make it."""
    python = os.environ.get("SYNTH_INFINIGEN_PYTHON") or str(VENV_PYTHON)
    if not Path(python).is_file():
        raise BackendUnavailable(
            f"--assets infinigen needs Infinigen in its own environment (it pins bpy 4.2.0) and found no "
            f"interpreter at {python}: run `bash infra/bootstrap.sh --infinigen` (makes .venv-infinigen) or set "
            "SYNTH_INFINIGEN_PYTHON"
        )
    return python


def _key(category: str, variant: int) -> str:
    return f"{category.replace(' ', '_')}-{variant}"


class InfinigenAssets:
    """The cached asset library: ``variants`` assets per category of ``FACTORIES``."""

    def __init__(self, variants: int = ASSET_VARIANTS, categories: tuple[str, ...] | None = None):
        if variants < 1:
            raise ValueError(f"variants must be >= 1, got {variants}")
        self.variants = variants
        self.categories = tuple(categories or FACTORIES)
        unknown = set(self.categories) - set(FACTORIES)
        if unknown:
            raise ValueError(f"no Infinigen factory for {sorted(unknown)}; known: {sorted(FACTORIES)}")
        self.root = cache_dir()

    def asset(self, category: str, variant: int) -> Asset:
        """The cached asset (generating what is missing first)."""
        key = _key(category, variant)
        record = self.root / f"{key}.json"
        if not record.exists():
            self.ensure()
        r = json.loads(record.read_text())
        return Asset(
            category, key, tuple(r["size"]), r["triangles"], r["materials"], self.root / f"{key}.glb",
            self.root / f"{key}.blend",
        )  # fmt: skip

    def missing(self) -> list[tuple[str, int]]:
        return [
            (c, v)
            for c in self.categories
            for v in range(self.variants)
            if not (self.root / f"{_key(c, v)}.json").exists()
        ]

    def ensure(self, attempts: int = 3) -> list[dict]:
        """Generate every missing asset in an Infinigen process (one at a time per machine: a
        lock file); return the worker's records of what it made. A worker that fails is
        restarted on what is still missing, for as long as each process makes progress, and up to
        ``attempts`` processes in a row that make none (Infinigen under Blender 4.2 fails now and
        then on an asset that the next process makes: a ``UnicodeDecodeError`` reading a name,
        seen in 1-3% of assets); then ``RuntimeError`` with the worker's one-line reason.
        Finished assets are kept either way."""
        if not self.missing():
            return []
        self.root.mkdir(parents=True, exist_ok=True)
        records: list[dict] = []
        with _locked(self.root / ".lock"):
            idle, reason = 0, "the worker made nothing"
            while (todo := self.missing()) and idle < attempts:
                done = self._generate(todo)
                records += [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
                idle = 0 if len(self.missing()) < len(todo) else idle + 1
                if done.returncode != 0:
                    reason = (done.stderr.strip().splitlines()[-1:] or ["no output"])[0]
            if self.missing():
                raise RuntimeError(f"Infinigen asset generation failed ({len(records)} made): {reason}")
            return records

    def _generate(self, todo: list[tuple[str, int]]) -> subprocess.CompletedProcess:
        jobs = [
            {"key": _key(c, v), "factory": FACTORIES[c], "seed": v, "max_triangles": MAX_TRIANGLES, "bake": BAKE}
            | ({"fit": list(FIT[c])} if c in FIT else {})
            for c, v in todo
        ]
        env = {**os.environ, "BLENDER_USER_RESOURCES": str(self.root.parent / "blender-user")}
        return subprocess.run(
            [infinigen_python(), str(WORKER), str(self.root), json.dumps(jobs)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


if __name__ == "__main__":  # python -m synth.backends.procedural.infinigen_assets [variants]: fill the cache
    lib = InfinigenAssets(int(sys.argv[1]) if len(sys.argv) > 1 else ASSET_VARIANTS)
    for rec in lib.ensure():
        print(f"{rec['key']:20s} {rec['seconds']:6.2f} s {rec['triangles']:7d} triangles {rec['size']}")
    print(f"cache: {lib.root}")
