"""Small pieces every ``synth`` subcommand shares: the parser class and the argument types."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from synth.programs.llm import EndpointSettings


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one clear line, not the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def output(text: str) -> Path | str:
    """An output location: ``s3://...`` stays a string, anything else is a local path."""
    return text if text.startswith("s3://") else Path(text)


def positive(kind: type, zero: bool = False) -> Callable[[str], int | float]:
    """An argparse type that parses ``kind`` (int or float) and refuses negatives, and zero unless ``zero``."""
    name = "an integer" if kind is int else "a number"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None
        if value < 0 or (value == 0 and not zero):
            raise argparse.ArgumentTypeError(f"{text} must be {'zero or more' if zero else 'positive'}")
        return value

    return parse


positive_int = positive(int)


def endpoint_settings(args: argparse.Namespace, **more) -> EndpointSettings:
    """The endpoint that ``synth compile``'s and ``synth eval``'s shared flags name (``--base-url``,
    ``--model``, ``--api-key-env``, ``--timeout``); ``more``: settings only one of them has a flag for."""
    return EndpointSettings(
        base_url=args.base_url, model=args.model, api_key_env=args.api_key_env, timeout=args.timeout, **more
    )
