"""The sandbox pool: answers, failures with a clear reason, recovery, nondeterminism and the hard
limits (the hostile programs, by escape class: tests/test_hostile_programs.py)."""

from __future__ import annotations

import pytest

from synth.programs.sandbox import Limits, SandboxPool, Task
from tests.cheap import cheap_episode
from tests.test_hostile_programs import body

GOOD = "def answer(scene, a):\n    return round(scene.object(a).size[2], 2)\n"


# Ordinary failures of a program: reported with their message while the pool keeps working. The
# hostile programs, by escape class, are in tests/test_hostile_programs.py.
ORDINARY = [
    (body("return 1 / 0"), "ZeroDivisionError"),
    (body("return scene.object(99999)"), "KeyError"),
    (body("return [][1]"), "IndexError"),
    (body("raise ValueError('boom')"), "boom"),
    (body("return scene.missing_method()"), "AttributeError"),
    (body("return math.sqrt(-1)"), "math domain error"),
]


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=2, limits=Limits(cpu_seconds_per_call=0.5, wall_seconds_per_batch=10)) as p:
        yield p


@pytest.fixture(scope="module")
def episode_json():
    return cheap_episode(3, frames=4).model_dump_json()


def test_good_program_runs(pool, episode_json):
    [out] = pool.run(episode_json, [Task(GOOD, {"a": 1})])
    assert out.ok and isinstance(out.value, float) and out.deterministic


@pytest.mark.parametrize("source, reason", ORDINARY)
def test_failing_program_fails_cleanly_and_pool_recovers(pool, episode_json, source, reason):
    bad, good = pool.run(episode_json, [Task(source, {"a": 1}), Task(GOOD, {"a": 1})])
    assert not bad.ok and reason in bad.error, bad.error
    assert good.ok, good.error  # the same batch's innocent task still gets its answer
    [again] = pool.run(episode_json, [Task(GOOD, {"a": 2})])
    assert again.ok


def test_no_writable_filesystem_even_with_escape_attempts(pool, episode_json, tmp_path):
    target = tmp_path / "pwned"
    escapes = [body(f"open({str(target)!r}, 'w')\nreturn 1"), body("return scene.object.__func__.__globals__")]
    for out in pool.run(episode_json, [Task(s, {"a": 1}) for s in escapes]):
        assert not out.ok
    assert not target.exists()


def test_nondeterminism_is_flagged(pool, episode_json):
    # a counter kept in a default argument differs between the two calls
    src = "def answer(scene, a, box=[0]):\n    box.append(1)\n    return len(box)\n"
    [out] = pool.run(episode_json, [Task(src, {"a": 1})])
    assert out.ok and not out.deterministic


def test_worker_killed_by_hard_limit_is_replaced(episode_json):
    with SandboxPool(workers=1, limits=Limits(cpu_seconds_per_call=0.3, wall_seconds_per_batch=2)) as p:
        hang = body("return sum(range(10 ** 12))")  # one long C call: Python-level timers never fire
        before = p.restarts
        out = p.run(episode_json, [Task(hang, {"a": 1})])
        assert not out[0].ok and "killed" in out[0].error
        assert p.restarts > before
        assert p.run(episode_json, [Task(GOOD, {"a": 1})])[0].ok
