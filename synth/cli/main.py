"""The ``synth`` command line: one module per subcommand (``synth.cli.<name>``, each with ``add_parser`` and
``run``), assembled here, with the error handling they share."""

from __future__ import annotations

import argparse
import sys
from types import ModuleType

from pydantic import ValidationError

import synth.cli.compile
import synth.cli.degradations
import synth.cli.deploy
import synth.cli.eval
import synth.cli.export
import synth.cli.load
import synth.cli.oracle
import synth.cli.push
import synth.cli.reward
import synth.cli.run
import synth.cli.verify
from synth.cli.common import Parser

SUBCOMMANDS: dict[str, ModuleType] = {
    "run": synth.cli.run,
    "verify": synth.cli.verify,
    "push": synth.cli.push,
    "compile": synth.cli.compile,
    "degradations": synth.cli.degradations,
    "deploy": synth.cli.deploy,
    "export": synth.cli.export,
    "eval": synth.cli.eval,
    "reward": synth.cli.reward,
    "oracle": synth.cli.oracle,
    "load": synth.cli.load,
}
"""Subcommand name -> its module, in the order ``synth --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The ``synth`` parser with every subcommand's subparser."""
    p = Parser(prog="synth", description="Verifiable spatial-reasoning video QA datasets from simulators.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in SUBCOMMANDS.values():
        module.add_parser(sub)
    debug = {"action": "store_true", "help": "show the whole traceback of a failure instead of one line"}
    p.add_argument("--debug", **debug)
    for subparser in sub.choices.values():  # also after the subcommand: synth run ... --debug
        subparser.add_argument("--debug", **debug, default=argparse.SUPPRESS)
    return p


def _flag(command: str, loc: tuple) -> str:
    """The flag of a settings validation error's location: ``synth run``'s come from ``RunConfig``
    (``synth.cli.flags.flag_for``); the other subcommands' settings fields are named as their flags."""
    if command == "run":
        from synth.cli.flags import flag_for

        return flag_for(loc)
    return "--" + str(loc[-1]).replace("_", "-") if loc else "options"


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Invalid input or a failure is one ``synth: error: ...`` line on stderr and exit 2
    (``--debug``: the whole traceback); Ctrl-C exits 130; otherwise the subcommand's own exit status."""
    args = build_parser().parse_args(argv)
    try:
        return SUBCOMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print("synth: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug:
            raise
        print(f"synth: error: {_one_line(args.command, e)}", file=sys.stderr)
    return 2


def _one_line(command: str, e: Exception) -> str:
    """What went wrong, in one line: the flag of invalid input, the message of an expected failure
    (``synth.flows.failures.one_line``; a failed episode's names the episode, the step and the
    cause), with a pointer to ``--debug`` where the failure (or a failed episode's cause) was
    not an expected one."""
    if isinstance(e, ValidationError):
        err = e.errors()[0]
        return f"invalid {_flag(command, err['loc'])}: {err['msg']}"
    from synth.flows.failures import EXPECTED, EpisodeFailed, one_line

    cause = e.cause if isinstance(e, EpisodeFailed) else e
    if isinstance(cause, EXPECTED):
        return one_line(e)
    return f"{one_line(e)} (synth --debug shows the traceback)"


if __name__ == "__main__":
    sys.exit(main())
