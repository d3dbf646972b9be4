"""Hostile programs: each is rejected or killed with a clear reason, and the pool recovers."""

from __future__ import annotations

import pytest

from synth.programs.restricted import ProgramRejected, load_program
from synth.programs.sandbox import Limits, SandboxPool, Task
from tests.cheap import cheap_episode

GOOD = "def answer(scene, a):\n    return round(scene.object(a).size[2], 2)\n"


def body(code: str) -> str:
    """A program whose answer() runs ``code`` (indented lines separated by newlines)."""
    return "def answer(scene, a):\n" + "".join(f"    {line}\n" for line in code.split("\n"))


# (program, expected words in the reason). Compile-time rejections first.
COMPILE_TIME = [
    ("import os\ndef answer(scene, a):\n    return 1", "imports"),
    ("from os import system\ndef answer(scene, a):\n    return 1", "imports"),
    (body("import subprocess\nreturn 1"), "imports"),
    (body("return __import__('os').getcwd()"), "__import__"),
    (body("return scene.__class__"), "__class__"),
    (body("return ().__class__.__bases__[0].__subclasses__()"), "__class__"),
    (body("return [].__class__.__mro__"), "__class__"),
    (body("return scene.__dict__"), "__dict__"),
    (body("return scene._ep"), "_ep"),
    (body("return answer.__globals__"), "__globals__"),
    (body("return answer.__code__"), "__code__"),
    (body("return (x for x in []).gi_frame"), "gi_frame"),
    (body("g = (x for x in [])\nreturn g.gi_frame.f_back.f_globals"), "gi_frame"),
    (body("return open('/etc/passwd').read()"), "open"),
    (body("open('/tmp/pwned', 'w').write('x')\nreturn 1"), "open"),
    (body("return eval('1+1')"), "eval"),
    (body("exec('x = 1')\nreturn 1"), "exec"),
    (body("return compile('1', 'x', 'eval')"), "compile"),
    (body("return globals()"), "globals"),
    (body("return locals()"), "locals"),
    (body("return vars(scene)"), "vars"),
    (body("return getattr(scene, '_ep')"), "getattr"),
    (body("return getattr(scene, '__class__')"), "getattr"),
    (body("setattr(scene, 'x', 1)\nreturn 1"), "setattr"),
    (body("return type(scene)"), "type"),
    (body("return object.__subclasses__()"), "object"),
    (body("return super()"), "super"),
    (body("breakpoint()\nreturn 1"), "breakpoint"),
    (body("return input()"), "input"),
    (body("print('leak')\nreturn 1"), "print"),
    (body("global x\nx = 1\nreturn 1"), "global"),
    (body("return '{0.__class__}'.format(scene)"), "__"),
    (body("return '{0._ep}'.format(scene)"), "format"),
    (body("return 'x'.format_map({})"), "format_map"),
    ("class Evil:\n    pass\ndef answer(scene, a):\n    return 1", "ClassDef"),
    ("async def answer(scene, a):\n    return 1", "AsyncFunctionDef"),
    (body("return dir(scene)"), "dir"),
    (body("return id(scene)"), "id"),
    (body("exit(1)"), "exit"),
    ("def answer(scene, a):\n    return (", "syntax error"),
    ("x = 1", "does not define"),
    ("answer = 3", "does not define"),
    ("def answer(scene, a):\n    return 1\n" + "# padding\n" * 3000, "longer than"),
]

# Runtime failures: killed or failed with a clear reason while the pool keeps working.
RUNTIME = [
    (body("while True:\n    pass"), "CPU"),
    (body("x = 0\nwhile True:\n    x = x + 1"), "CPU"),
    (body("while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass"), "CPU"),
    (body("x = [0] * (10 ** 10)\nreturn 1"), "memory"),
    (body("x = 'a' * (2 ** 34)\nreturn 1"), "memory"),
    (body("return answer(scene, a)"), "recursion"),
    (body("return 'x' * 10 ** 6"), "larger than"),
    (body("return list(range(10 ** 6))"), "larger than"),
    (body("return 1 / 0"), "ZeroDivisionError"),
    (body("return scene.object(99999)"), "KeyError"),
    (body("return [][1]"), "IndexError"),
    (body("raise ValueError('boom')"), "boom"),
    (body("return scene.missing_method()"), "AttributeError"),
    (body("return scene"), "not JSON serializable"),
    (body("return float('nan')"), "Out of range float"),
    (body("return math.sqrt(-1)"), "math domain error"),
    (body("return math.os"), "AttributeError"),
]


def test_suite_is_large_enough():
    assert len(COMPILE_TIME) + len(RUNTIME) >= 50


@pytest.mark.parametrize("source, reason", COMPILE_TIME)
def test_rejected_at_compile_time(source, reason):
    with pytest.raises(ProgramRejected) as info:
        load_program(source)
    assert reason in str(info.value)


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


@pytest.mark.parametrize("source, reason", RUNTIME + COMPILE_TIME[:5])
def test_hostile_program_fails_cleanly_and_pool_recovers(pool, episode_json, source, reason):
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
