"""``synth run``'s flags, generated from ``RunConfig``'s fields (names, types, defaults, help),
so that the command line, the Prefect form and the configuration cannot drift apart.

Every leaf field (``synth.flows.config.FLAGS``) becomes ``--name`` (underscores as dashes): top-level
fields, the fields of nested models (``video``: ``--frames --width --height --fps``; ``visibility``: ``--min-pixels
--min-frames``), the fields of every renderer's settings (``--quality``, ``--samples``, ...),
with ``--renderer NAME`` choosing the backend, and the fields of every scene source's settings
(``--scene-dataset``, ``--scene``, ``--house``, ``--assets``, ...), with ``--simulator NAME``
choosing the source. ``--resolution WxH`` sets width and height.
A flag that is not given leaves the preset's value.
"""

from __future__ import annotations

import argparse
from typing import Any, Literal, get_args, get_origin

from synth.flows.config import FLAGS, RENDERER, SOURCE, RunConfig, renderer_models


def renderer_names() -> list[str]:
    return [m.model_fields["backend"].default for m in renderer_models()]


def _kind(annotation: Any) -> tuple[Any, tuple | None]:
    """argparse type and choices of a field annotation."""
    if get_origin(annotation) is Literal:
        return str, get_args(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if args and get_origin(annotation) is not None:
        return _kind(args[0])
    return annotation if annotation in (int, float, str) else str, None


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per RunConfig leaf field (defaults shown are the ``default`` preset's)."""
    default = RunConfig()
    parser.add_argument(
        "--renderer", choices=renderer_names(), help=f"renderer backend (default {default.renderer.backend})"
    )
    parser.add_argument("--resolution", type=_resolution, metavar="WxH", help="sets --width and --height")
    for name, flag in FLAGS.items():
        if flag.field.annotation is bool:
            value = getattr(default, name)
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                dest=f"cfg_{name}",
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{flag.field.description or ''} (default {'yes' if value else 'no'})",
            )
            continue
        kind, choices = _kind(flag.field.annotation)
        if flag.backends:
            value = getattr(default.renderer, name, None)
            shown = f"default {value}" if value is not None else "no default"
            where = f"renderer {'/'.join(flag.backends)}"
            help_text = f"{flag.field.description or ''} ({where}; {shown})"
        else:
            value: Any = getattr(default.source, name, None) if flag.simulators else default
            for part in () if flag.simulators else flag.path:
                value = getattr(value, part)
            help_text = f"{flag.field.description or ''} (default {value if value not in ('', None) else 'none'})"
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=f"cfg_{name}",
            type=kind,
            choices=choices,
            metavar=None if choices else name.upper(),
            help=help_text.strip(),
        )


def _resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 320x240") from None
    return w, h


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The RunConfig the flags describe (pydantic validates; errors name the field)."""
    given = {name: getattr(args, f"cfg_{name}") for name in FLAGS if getattr(args, f"cfg_{name}", None) is not None}
    if args.resolution:
        given.setdefault("width", args.resolution[0])
        given.setdefault("height", args.resolution[1])
    try:
        return RunConfig.from_options(renderer_backend=args.renderer, **given)
    except KeyError as e:  # an option of another backend
        raise ValueError(e.args[0].replace("option ", "--").replace("_", "-")) from None


def flag_for(loc: tuple) -> str:
    """The flag of a validation error's location (``("video", "width")`` -> ``--width``; the
    scene source itself, ``("source",)``, -> ``--simulator``)."""
    if tuple(loc) == (SOURCE,):
        return "--simulator"
    names = [str(x) for x in loc if str(x) in FLAGS or str(x) == RENDERER]
    if not names:
        return "options"
    return "--" + names[-1].replace("_", "-")
