"""Hostile question programs, grouped by the escape they try (``HOSTILE``): each one is refused
with its specific reason (a compile-time rejection naming what it used, or the runtime limit it
hit), and an innocent program run right after it in the same sandbox worker still gets its exact
answer. Escape classes follow the published Python sandbox escapes: frame and generator walking,
format-string attribute access, ``__subclasses__`` chains, exception tracebacks, decorators and
closures, CPU, C-level hangs, memory, recursion, output size, signals and the sandbox's own
time-out, ``/proc`` and the filesystem, imports, tampering with builtins and shared objects,
the scene API's private state, compiler bombs (parsed in the parent process too), builtins left
out, and state carried from one call to the next.
"""

from __future__ import annotations

import re

import pytest

from synth.programs.restricted import ProgramRejected, compile_program
from synth.programs.sandbox import MAX_RESULT_BYTES, Limits, SandboxPool, Task
from tests.cheap import cheap_episode

LIMITS = Limits(cpu_seconds_per_call=0.3, wall_seconds_per_batch=60, memory_mb=256)
HANG_LIMITS = Limits(cpu_seconds_per_call=0.3, wall_seconds_per_batch=4, memory_mb=256)

# An innocent program: run after each hostile one in the same worker, its answer must not change.
GOOD = (
    "def answer(scene, a):\n"
    "    size = scene.object(a).size\n"
    "    parts = sorted(round(math.sqrt(x * x), 4) for x in size)\n"
    "    return [len(scene.object_ids()), min(parts), max(parts), isinstance(a, int), str(sum(range(4)))]\n"
)


def body(code: str) -> str:
    """A program whose answer() runs ``code`` (lines separated by newlines, indented as a body)."""
    return "def answer(scene, a):\n" + "".join(f"    {line}\n" for line in code.split("\n"))


def module(code: str) -> str:
    """A program whose module body runs ``code`` before defining an innocent answer()."""
    return code + "\ndef answer(scene, a):\n    return 1\n"


def attr(name: str) -> str:
    return f"attribute {name!r} is not allowed"


def name(n: str) -> str:
    return f"name {n!r} is not allowed"


def undefined(n: str) -> str:
    return f"NameError: name {n!r} is not defined"


IMPORTS = "imports are not allowed"
DUNDER_STRING = "strings containing '__' are not allowed"
BARE_EXCEPT = "a bare 'except:' is not allowed"
FINALLY = "'finally' is not allowed"
NOT_A_FUNCTION = "program does not define a function answer(scene, ...)"
TOO_DEEP = "the program cannot be compiled: it is nested too deeply"
CPU = f"killed: more than {LIMITS.cpu_seconds_per_call} s of CPU"
MEMORY = f"killed: more than {LIMITS.memory_mb} MB of memory"
RECURSION = "killed: recursion too deep"
OUTPUT = f"answer is larger than {MAX_RESULT_BYTES} bytes"
NOT_JSON = "is not JSON serializable"
READ_ONLY = "TypeError: attribute-less object (assign or del)"
CANARY = "/tmp/synth-hostile-canary"

HOSTILE: dict[str, list[tuple[str, str]]] = {
    "frames and generators": [
        (body("g = (x for x in [1])\nreturn g.gi_frame"), attr("gi_frame")),
        (body("g = (x for x in [1])\nreturn g.gi_frame.f_back.f_globals"), attr("gi_frame")),
        (body("g = (x for x in [1])\nreturn g.gi_code"), attr("gi_code")),
        (body("return (x for x in []).gi_frame"), attr("gi_frame")),
        (body("g = (x for x in [])\nreturn g.gi_frame.f_back.f_globals"), attr("gi_frame")),
        (body("return answer.__code__"), attr("__code__")),
        ("def gen():\n    yield 1\ndef answer(scene, a):\n    return gen().gi_frame.f_locals\n", attr("gi_frame")),
        (
            "def inner():\n    yield 1\ndef outer():\n    yield from inner()\n"
            "def answer(scene, a):\n    g = outer()\n    for x in g:\n        return g.gi_yieldfrom\n",
            attr("gi_yieldfrom"),
        ),
        ("def gen():\n    yield g.gi_frame.f_back\ng = gen()\ndef answer(scene, a):\n    return 1\n", attr("gi_frame")),
        (body("f = None\nreturn f.f_back"), attr("f_back")),
        (body("f = None\nreturn f.f_globals['open']"), attr("f_globals")),
        (body("f = None\nreturn f.f_locals"), attr("f_locals")),
        (body("f = None\nreturn f.f_builtins['open']"), attr("f_builtins")),
        (body("f = None\nreturn f.f_code"), attr("f_code")),
        (body("return answer.co_code"), attr("co_code")),
        (body("return answer.func_globals"), attr("func_globals")),
        (body("return answer.func_code"), attr("func_code")),
        (body("c = None\nreturn c.cr_frame"), attr("cr_frame")),
        (body("c = None\nreturn c.cr_code"), attr("cr_code")),
        (body("c = None\nreturn c.cr_await"), attr("cr_await")),
        (body("g = None\nreturn g.ag_frame"), attr("ag_frame")),
        (body("g = None\nreturn g.ag_code"), attr("ag_code")),
        (body("return sys._getframe(1).f_globals"), attr("_getframe")),
        (body("return inspect.currentframe().f_back"), attr("f_back")),
        (body("return inspect.stack()"), undefined("inspect")),
        (body("return (lambda: (yield))().gi_frame"), attr("gi_frame")),
        (
            "def gen():\n    x = yield 1\n    yield x\n"
            "def answer(scene, a):\n    g = gen()\n    for x in g:\n        return g.send(g).gi_frame\n",
            attr("gi_frame"),
        ),
        ("async def answer(scene, a):\n    return 1", "AsyncFunctionDef is not allowed"),
        (body("await scene"), "Await is not allowed"),
        (body("return [x async for x in scene]"), "asynchronous comprehension outside of an asynchronous function"),
    ],
    "format strings": [
        (body("return '{0.__class__}'.format(scene)"), DUNDER_STRING),
        (body("return '{0._ep}'.format(scene)"), attr("format")),
        (body("return '{0.object.__self__}'.format(scene)"), DUNDER_STRING),
        (body("return '{a._ep}'.format_map({'a': scene})"), attr("format_map")),
        (body("return str.format('{0._ep}', scene)"), attr("format")),
        (body("return str.format_map('{x._ep}', {'x': scene})"), attr("format_map")),
        (body("return 'x'.format_map({})"), attr("format_map")),
        (body("return f'{scene._ep}'"), attr("_ep")),
        (body("return f'{scene.__class__}'"), attr("__class__")),
        (body("return f'{scene:{\"__class__\"}}'"), DUNDER_STRING),
        (body("s = '{0.' + '_' + '_class_' + '_}'\nreturn s.format(scene)"), attr("format")),
        (body("return ('{0.' + '_ep}').format(scene)"), attr("format")),
        (body("f = str.format\nreturn f('{0._ep}', scene)"), attr("format")),
        (body("return format(scene, '')"), undefined("format")),
        (body("return '{0[_ep]}'.format(scene)"), attr("format")),
        (body("return '{.__globals__}'.format(answer)"), DUNDER_STRING),
        (body("return '{0.\\x5f\\x5fclass\\x5f\\x5f}'.format(scene)"), DUNDER_STRING),
        (body("return '{0._' '_class__}'.format(scene)"), DUNDER_STRING),
        (body("return b'{0.gi_frame}'.decode().format(scene)"), attr("format")),
        (body("return list(map('{0._ep}'.format, [scene]))"), attr("format")),
        (body("g = (x for x in [1])\nreturn '{0.gi_frame}'.format(g)"), attr("format")),
        (body("return string.Formatter().vformat('{0._ep}', [scene], {})"), undefined("string")),
        (body("return '%s' % scene.__class__"), attr("__class__")),
        (body("return '{0.__class__.__mro__}'.format_map(scene)"), DUNDER_STRING),
    ],
    "__subclasses__ chains": [
        (body("return ().__class__.__bases__[0].__subclasses__()"), attr("__class__")),
        (body("return ''.__class__.__mro__[1].__subclasses__()"), attr("__mro__")),
        (body("return [].__class__.__base__.__subclasses__()"), attr("__base__")),
        (body("return {}.__class__.__subclasses__()"), attr("__subclasses__")),
        (body("return (1).__class__.__subclasses__()"), attr("__class__")),
        (body("return [].__class__.__mro__"), attr("__class__")),
        (body("return int.__subclasses__()"), attr("__subclasses__")),
        (body("return Exception.__subclasses__()"), attr("__subclasses__")),
        (body("return object.__subclasses__()"), name("object")),
        (body("return type.__subclasses__(type)"), name("type")),
        (body("return bool.__mro__[-1].__subclasses__()"), attr("__mro__")),
        (body("return int.mro()"), attr("mro")),
        (body("return Exception.mro()[-1]"), attr("mro")),
        (body("return scene.__class__.__init__.__globals__"), attr("__init__")),
        (body("return (lambda: 0).__class__"), attr("__class__")),
        (body("return ().__reduce_ex__(2)"), attr("__reduce_ex__")),
        (body("return int.__init_subclass__"), attr("__init_subclass__")),
        (body("return True.__class__.__bases__"), attr("__bases__")),
        (body("return scene.object.__func__.__globals__['__builtins__']"), attr("__func__")),
        (body("return getattr(float, '__subclasses__')()"), name("getattr")),
        (body("return vars(int)"), name("vars")),
        (body("return dir(())"), name("dir")),
        (body("return [c for c in tuple.__base__.__subclasses__() if c.__name__ == 'Popen']"), attr("__base__")),
    ],
    "exception tracebacks": [
        (body("try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__"), attr("__traceback__")),
        (
            body("try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__.tb_frame.f_globals"),
            attr("__traceback__"),
        ),
        (body("try:\n    1 / 0\nexcept Exception as e:\n    return e.__context__"), attr("__context__")),
        (body("try:\n    1 / 0\nexcept Exception as e:\n    return e.__cause__"), attr("__cause__")),
        (
            body("try:\n    1 / 0\nexcept Exception as e:\n    return e.__suppress_context__"),
            attr("__suppress_context__"),
        ),
        (
            body("try:\n    1 / 0\nexcept Exception as e:\n    return e.with_traceback(None).__traceback__"),
            attr("__traceback__"),
        ),
        (body("try:\n    1 / 0\nexcept Exception:\n    return sys.exc_info()[2]"), undefined("sys")),
        (body("raise ValueError('x') from scene.__class__"), attr("__class__")),
        (body("tb = None\nreturn tb.tb_next"), attr("tb_next")),
        (body("tb = None\nreturn tb.tb_frame"), attr("tb_frame")),
        (body("try:\n    1 / 0\nexcept Exception as e:\n    return e.args[0].__class__"), attr("__class__")),
        (body("try:\n    1 / 0\nexcept Exception as e:\n    return e"), f"ZeroDivisionError {NOT_JSON}"),
        (body("try:\n    scene.nope\nexcept Exception as e:\n    return e.obj._ep"), attr("_ep")),
        (body("try:\n    1 / 0\nexcept Exception as e:\n    e.args = (scene.__dict__,)"), attr("__dict__")),
        (body("raise SystemExit(0)"), name("SystemExit")),
        (body("raise KeyboardInterrupt"), name("KeyboardInterrupt")),
        (body("raise GeneratorExit"), name("GeneratorExit")),
        (body("raise BaseException('out')"), name("BaseException")),
        (body("raise MemoryError"), undefined("MemoryError")),
        (body("raise RecursionError"), undefined("RecursionError")),
        (body("raise 5"), "TypeError: exceptions must derive from BaseException"),
        # messages the worker cannot print (a huge int, a deep list): the worker must not die on them
        (body("raise ValueError(10 ** 100000)"), "ValueError: (its message cannot be printed)"),
        (body("x = []\nfor i in range(100000):\n    x = [x]\nraise ValueError(x)"), "ValueError: (its message cannot"),
        (body("raise KeyError(10 ** 5000)"), "KeyError: (its message cannot be printed)"),
    ],
    "decorators and closures": [
        ("@print\ndef answer(scene, a):\n    return 1\n", name("print")),
        ("@eval\ndef answer(scene, a):\n    return 1\n", name("eval")),
        ("@(lambda f: f.__globals__)\ndef answer(scene, a):\n    return 1\n", attr("__globals__")),
        ("@(lambda f: f.__code__)\ndef answer(scene, a):\n    return 1\n", attr("__code__")),
        ("@(lambda f: len)\ndef answer(scene, a):\n    return 1\n", NOT_A_FUNCTION),
        ("@(lambda f: None)\ndef answer(scene, a):\n    return 1\n", NOT_A_FUNCTION),
        ("@sorted\ndef answer(scene, a):\n    return 1\n", "TypeError: 'function' object is not iterable"),
        (body("x = 1\ndef g():\n    return x\nreturn g.__closure__[0].cell_contents"), attr("__closure__")),
        (body("def g(y=scene):\n    return y\nreturn g.__defaults__"), attr("__defaults__")),
        (body("def g(*, y=scene):\n    return y\nreturn g.__kwdefaults__"), attr("__kwdefaults__")),
        (body("x = 1\ndef g():\n    nonlocal x\n    x = 2\ng()\nreturn x"), "global/nonlocal are not allowed"),
        (body("global math\nmath = None\nreturn 1"), "global/nonlocal are not allowed"),
        (body("return answer.__wrapped__"), attr("__wrapped__")),
        (body("return answer.__globals__"), attr("__globals__")),
        (body("global x\nx = 1\nreturn 1"), "global/nonlocal are not allowed"),
        ("@functools.wraps(len)\ndef answer(scene, a):\n    return 1\n", undefined("functools")),
        ("@staticmethod\ndef answer(scene, a):\n    return 1\n", undefined("staticmethod")),
        ("@classmethod\ndef answer(scene, a):\n    return 1\n", undefined("classmethod")),
        ("@property\ndef answer(scene, a):\n    return 1\n", undefined("property")),
        ("def deco(f):\n    while True:\n        pass\n@deco\ndef answer(scene, a):\n    return 1\n", CPU),
        ("def spin():\n    while True:\n        pass\ndef answer(scene, a, x=spin()):\n    return 1\n", CPU),
        ("def deco(f):\n    return deco(f)\n@deco\ndef answer(scene, a):\n    return 1\n", RECURSION),
        ("@(lambda f: [0] * 10 ** 10)\ndef answer(scene, a):\n    return 1\n", MEMORY),
        (body("def g():\n    return scene\nreturn g"), f"function {NOT_JSON}"),
        ("def answer(scene, a):\n    yield 1\n", f"generator {NOT_JSON}"),
        ("answer = lambda scene, a: (lambda: scene)\n", f"function {NOT_JSON}"),
        ("@Evil\nclass Evil:\n    pass\ndef answer(scene, a):\n    return 1\n", "ClassDef is not allowed"),
        (body("return answer.__dict__"), attr("__dict__")),
        (body("answer.__name__ = 'x'\nreturn 1"), attr("__name__")),
        (body("answer.count = 1\nreturn 1"), READ_ONLY),
    ],
    "CPU": [
        (body("while True:\n    pass"), CPU),
        (body("x = 0\nwhile True:\n    x = x + 1"), CPU),
        (body("for i in range(10 ** 9):\n    for j in range(10 ** 9):\n        pass"), CPU),
        ("def g():\n    while True:\n        yield 1\ndef answer(scene, a):\n    return sum(g())\n", CPU),
        (body("while True:\n    sorted(range(1000), key=lambda x: -x)"), CPU),
        (
            body("while True:\n    try:\n        while True:\n            pass\n    except Exception:\n        pass"),
            CPU,
        ),
        (body("s = ''\nwhile True:\n    s = s[-10:] + 'x'"), CPU),
        # a comprehension over an endless generator; a set, so that it spins without growing (a list
        # reached the memory limit before 0.3 s of CPU on a faster machine: a memory kill, not this one)
        ("def g():\n    while True:\n        yield 1\ndef answer(scene, a):\n    return {1 for i in g()}\n", CPU),
        (body("return list(filter(lambda x: False, range(10 ** 12)))"), CPU),
        (body("return any(x < 0 for x in range(10 ** 12))"), CPU),
        (body("while True:\n    x = [i * i for i in range(100)]"), CPU),
        (module("while True:\n    pass"), CPU),
        (module("x = 0\nfor i in range(10 ** 12):\n    x = x + i"), CPU),
        (body("x = 1\nwhile True:\n    x = x * 3 % 1000003"), CPU),
        ("def f(n):\n    return 1 if n == 0 else f(n - 1) + f(n - 1)\ndef answer(scene, a):\n    return f(60)\n", CPU),
        (body("while True:\n    scene.objects()"), CPU),
        (body("return max(range(10 ** 12), key=lambda x: -x)"), CPU),
        # recursion that catches RecursionError and goes on: the time-out fires at the recursion limit too
        (
            "def f(n):\n    try:\n        return f(n + 1)\n    except Exception:\n        return f(n + 1)\n"
            "def answer(scene, a):\n    return f(0)\n",
            CPU,
        ),
        (
            "def f(n):\n    return f(n + 1)\n"
            "def answer(scene, a):\n    while True:\n        try:\n            f(0)\n"
            "        except Exception:\n            pass\n",
            CPU,
        ),
        (body("while True:\n    try:\n        scene.object(-1)\n    except Exception:\n        pass"), CPU),
        (body("return pow(10, 10 ** 10)"), CPU),  # long_pow checks for signals between digits
    ],
    "memory": [
        (body("x = [0] * (10 ** 10)\nreturn 1"), MEMORY),
        (body("x = 'a' * (2 ** 34)\nreturn 1"), MEMORY),
        (body("x = []\nwhile True:\n    x.append([0] * 10 ** 6)"), MEMORY),
        (body("return len(list(range(10 ** 10)))"), MEMORY),
        (body("return len('a'.ljust(10 ** 10))"), MEMORY),
        (body("return len('a'.center(10 ** 10))"), MEMORY),
        (body("return len('1'.zfill(10 ** 10))"), MEMORY),
        (body("return len((0,) * 10 ** 10)"), MEMORY),
        (body("return len([[]] * 10 ** 10)"), MEMORY),
        (body("return len(set(range(10 ** 12)))"), MEMORY),
        (body("return len(dict.fromkeys(range(10 ** 12)))"), MEMORY),
        (body("return len(list(zip(range(10 ** 12))))"), MEMORY),
        (body("return len('x' * 10 ** 9)"), MEMORY),
        (body("s = 'ab'\nwhile True:\n    s = s + s"), MEMORY),
        (body("x = [0]\nwhile True:\n    x = x + x"), MEMORY),
        (body("return '%*d' % (10 ** 10, 1)"), MEMORY),
        (body("return f'{1:{10 ** 10}}'"), MEMORY),
        (body("return len(sorted(range(10 ** 10)))"), MEMORY),
        (body("return len(tuple(range(10 ** 10)))"), MEMORY),
        (module("big = [0] * 10 ** 10"), MEMORY),
        (body("return len('a' * 10 ** 5 * 10 ** 5)"), MEMORY),
    ],
    "recursion": [
        (body("return answer(scene, a)"), RECURSION),
        ("def f(n):\n    return f(n + 1)\ndef answer(scene, a):\n    return f(0)\n", RECURSION),
        ("def f(n):\n    return g(n)\ndef g(n):\n    return f(n)\ndef answer(scene, a):\n    return f(0)\n", RECURSION),
        ("f = lambda n: f(n + 1)\ndef answer(scene, a):\n    return f(0)\n", RECURSION),
        ("def g():\n    yield from g()\ndef answer(scene, a):\n    return list(g())\n", RECURSION),
        (body("x = []\nfor i in range(100000):\n    x = [x]\nreturn len(str(x))"), RECURSION),
        (body("x = []\nfor i in range(100000):\n    x = [x]\nreturn x"), RECURSION),
        (body("x = {}\nfor i in range(100000):\n    x = {'k': x}\nreturn x"), RECURSION),
        (body("return sorted([1, 2], key=lambda x: answer(scene, a))"), RECURSION),
        (body("return list(map(lambda x: answer(scene, a), [1]))"), RECURSION),
        (module("def f():\n    return f()\nf()"), RECURSION),
        (body("x = ()\nfor i in range(100000):\n    x = (x,)\nreturn len(str(x))"), RECURSION),
        (body("f = lambda: [f() for i in [1]]\nreturn f()"), RECURSION),
    ],
    "output size": [
        (body("return 'x' * 10 ** 6"), OUTPUT),
        (body("return list(range(10 ** 6))"), OUTPUT),
        (body("return {str(i): i for i in range(10 ** 5)}"), OUTPUT),
        (body(f"return 'x' * {MAX_RESULT_BYTES}"), OUTPUT),  # 2 quotes over the limit
        (body("return ['abc' * 100] * 1000"), OUTPUT),
        (body("return [[1] * 1000] * 100"), OUTPUT),
        (body("return '\\U0001F600' * 20000"), OUTPUT),  # escaped as 12 characters each
        (body("return scene.objects()"), f"ObjectInfo {NOT_JSON}"),
        (body("return {1, 2}"), f"set {NOT_JSON}"),
        (body("return float('inf')"), "Out of range float values are not JSON compliant"),
        (body("return float('nan')"), "Out of range float values are not JSON compliant"),
        (body("return 10 ** 5000"), "Exceeds the limit (4300 digits) for integer string conversion"),
        (body("return {(1, 2): 3}"), "keys must be str, int, float, bool or None, not tuple"),
        (body("return scene"), f"SceneAPI {NOT_JSON}"),
        (body("return answer"), f"function {NOT_JSON}"),
        (body("return range(10)"), f"range {NOT_JSON}"),
        (body("return map(abs, [1])"), f"map {NOT_JSON}"),
        (body("return str(10 ** 5000)"), "Exceeds the limit (4300 digits) for integer string conversion"),
        (body("return int('9' * 5000)"), "Exceeds the limit (4300 digits) for integer string conversion"),
    ],
    "signals and the time-out": [
        (body("import signal\nsignal.alarm(0)\nreturn 1"), IMPORTS),
        (body("signal.signal(27, None)\nreturn 1"), undefined("signal")),
        (body("os.kill(os.getpid(), 9)\nreturn 1"), undefined("os")),
        (body("signal.setitimer(2, 0)\nreturn 1"), undefined("signal")),
        (body("resource.setrlimit(0, (-1, -1))\nreturn 1"), undefined("resource")),
        (body("return __import__('signal').SIGPROF"), name("__import__")),
        (body("exit(0)"), name("exit")),
        (body("quit()"), name("quit")),
        (body("try:\n    while True:\n        pass\nexcept:\n    return 42"), BARE_EXCEPT),
        (body("try:\n    while True:\n        pass\nfinally:\n    return 42"), FINALLY),
        (body("while True:\n    try:\n        while True:\n            pass\n    except:\n        pass"), BARE_EXCEPT),
        (body("try:\n    while True:\n        pass\nfinally:\n    while True:\n        pass"), FINALLY),
        (body("try:\n    while True:\n        pass\nexcept BaseException:\n    return 42"), name("BaseException")),
        (
            body("try:\n    while True:\n        pass\nexcept (Exception, GeneratorExit):\n    return 42"),
            name("GeneratorExit"),
        ),
        (
            "def g():\n    try:\n        yield 1\n    finally:\n        while True:\n            pass\n"
            "def answer(scene, a):\n    for x in g():\n        return x\n",
            FINALLY,
        ),
        (
            "def g():\n    try:\n        yield 1\n    except:\n        while True:\n            pass\n"
            "def answer(scene, a):\n    for x in g():\n        return x\n",
            BARE_EXCEPT,
        ),
        (body("try:\n    pass\nexcept* Exception:\n    pass\nreturn 1"), "TryStar statements are not allowed"),
        (
            body("try:\n    while True:\n        pass\nexcept KeyboardInterrupt:\n    return 42"),
            name("KeyboardInterrupt"),
        ),
    ],
    "/proc and the filesystem": [
        (body("return open('/proc/self/environ').read()"), name("open")),
        (body("return open('/proc/self/mem', 'rb').read(1)"), name("open")),
        (body("return open('/proc/self/cmdline').read()"), name("open")),
        (body("return open('/etc/passwd').read()"), name("open")),
        (body(f"open({CANARY!r}, 'w').write('x')\nreturn 1"), name("open")),
        (body("open('/tmp/pwned', 'w').write('x')\nreturn 1"), name("open")),
        (body("return math.os"), "AttributeError: 'types.SimpleNamespace' object has no attribute 'os'"),
        (body("return os.listdir('/proc')"), undefined("os")),
        (body("return pathlib.Path('/proc/self/environ').read_text()"), undefined("pathlib")),
        (body("return io.open('/etc/passwd').read()"), undefined("io")),
        (body("return file('/etc/passwd').read()"), undefined("file")),
        (body("return execfile('/etc/passwd')"), undefined("execfile")),
        (body("return __builtins__['open']('/etc/passwd').read()"), name("__builtins__")),
        (body("return math.os.environ"), "AttributeError: 'types.SimpleNamespace' object has no attribute 'os'"),
        (body("return scene.object.__globals__['os']"), attr("__globals__")),
        (body("return scene.surface_distance.__globals__"), attr("__globals__")),
        (body("return __loader__.get_data('/etc/passwd')"), name("__loader__")),
        (body("return __spec__.origin"), name("__spec__")),
        (body("return __file__"), name("__file__")),
        (body("return globals()['__builtins__']"), name("globals")),
        (body("return dir()"), name("dir")),
        (body("help(open)\nreturn 1"), name("help")),
        (body("return memoryview(b'x')"), name("memoryview")),
        (body("return input()"), name("input")),
        (body("return compile('1', '/etc/passwd', 'eval')"), name("compile")),
        (body(f"print('x', file=open({CANARY!r}, 'w'))\nreturn 1"), name("print")),
        (body("return type(scene).__init__.__globals__['__builtins__']['open']"), name("type")),
        (body(f"os.system('touch {CANARY}')\nreturn 1"), undefined("os")),
        (body("return subprocess.run(['id'])"), undefined("subprocess")),
    ],
    "imports": [
        ("import os\ndef answer(scene, a):\n    return 1", IMPORTS),
        ("from os import system\ndef answer(scene, a):\n    return 1", IMPORTS),
        (body("import subprocess\nreturn 1"), IMPORTS),
        (body("import builtins\nreturn builtins.open"), IMPORTS),
        (body("from builtins import open\nreturn 1"), IMPORTS),
        (body("import math\nreturn math.pi"), IMPORTS),
        (body("from . import scene_api\nreturn 1"), IMPORTS),
        (body("from synth.programs import restricted\nreturn 1"), IMPORTS),
        (body("import importlib\nreturn 1"), IMPORTS),
        (body("return __import__('os').getcwd()"), name("__import__")),
        (body("return importlib.import_module('os')"), undefined("importlib")),
        (body("exec('import os')\nreturn 1"), name("exec")),
        (body("return eval('1+1')"), name("eval")),
        (body("try:\n    import os as o\nexcept Exception:\n    return 0\nreturn 1"), IMPORTS),
        ("from __future__ import annotations\ndef answer(scene, a):\n    return 1\n", IMPORTS),
        (body("def g():\n    import os\n    return os\nreturn 1"), IMPORTS),
        (body("return math.__loader__"), attr("__loader__")),
        (body("return sys.modules['os']"), undefined("sys")),
        (body("return __builtins__.__import__('os')"), name("__builtins__")),
        (body("import ctypes\nreturn 1"), IMPORTS),
        (body("import pickle\nreturn 1"), IMPORTS),
        (body("from multiprocessing import connection\nreturn 1"), IMPORTS),
        (body("return __import__"), name("__import__")),
    ],
    "tampering with builtins and shared objects": [
        (body("math.sqrt = abs\nreturn 1"), READ_ONLY),
        (body("math.pi = 3\nreturn 1"), READ_ONLY),
        (body("del math.sqrt\nreturn 1"), READ_ONLY),
        (body("scene.width = 0\nreturn 1"), READ_ONLY),
        (body("scene.drop = None\nreturn 1"), READ_ONLY),
        (body("scene.object(a).center = (0, 0, 0)\nreturn 1"), READ_ONLY),
        (body("__builtins__['len'] = None\nreturn 1"), name("__builtins__")),
        (body("list.append = None\nreturn 1"), READ_ONLY),
        (body("str.upper = None\nreturn 1"), READ_ONLY),
        (body("int.real = 0\nreturn 1"), READ_ONLY),
        (body("Exception.args = None\nreturn 1"), READ_ONLY),
        (body("scene.objects().append(1)\nreturn 1"), "AttributeError: 'tuple' object has no attribute 'append'"),
        (module("_getattr_ = getattr"), name("_getattr_")),
        (module("_write_ = lambda x: x"), name("_write_")),
        (module("_getiter_ = None"), name("_getiter_")),
        (module("__metaclass__ = None"), name("__metaclass__")),
        # shadowing a builtin or math breaks only the program that does it (the next program is unaffected)
        (
            "len = None\ndef answer(scene, a):\n    return len(scene.object_ids())\n",
            "'NoneType' object is not callable",
        ),
        ("math = None\ndef answer(scene, a):\n    return math.sqrt(4)\n", "'NoneType' object has no attribute 'sqrt'"),
        ("sorted = 0\ndef answer(scene, a):\n    return sorted([2, 1])\n", "'int' object is not callable"),
        (
            "isinstance = len\ndef answer(scene, a):\n    return isinstance(a, int)\n",
            "len() takes exactly one argument",
        ),
        ("range = None\ndef answer(scene, a):\n    return sum(range(4))\n", "'NoneType' object is not callable"),
        (body("scene.drop.reason = 'x'\nreturn 1"), READ_ONLY),
    ],
    "private scene state": [
        (body("return scene._ep"), attr("_ep")),
        (body("return scene._objects"), attr("_objects")),
        (body("return scene._vis"), attr("_vis")),
        (body("return scene._take_drop_reason()"), attr("_take_drop_reason")),
        (body("return scene._poses"), attr("_poses")),
        (body("return scene._ev"), attr("_ev")),
        (body("return scene.__dict__"), attr("__dict__")),
        (body("return scene.__class__"), attr("__class__")),
        (body("return scene.object.__self__._ep"), attr("__self__")),
        (body("return scene.__reduce__()"), attr("__reduce__")),
        (body("return scene.__getattribute__('_ep')"), attr("__getattribute__")),
        (body("return scene.object(a).__dict__"), attr("__dict__")),
        (body("return scene.object(a).__class__.__dataclass_fields__"), attr("__class__")),
        (body("return getattr(scene, '_ep')"), name("getattr")),
        (body("return vars(scene)"), name("vars")),
        (body("scene.__init__(None)\nreturn 1"), attr("__init__")),
        (body("scene.__setattr__('_ep', None)\nreturn 1"), attr("__setattr__")),
        (body("return scene.object.__func__"), attr("__func__")),
        (body("return hasattr(scene, '_ep')"), name("hasattr")),
        (body("return scene._why"), attr("_why")),
    ],
    "compiler bombs": [
        (body("return " + "1+" * 9000 + "1"), TOO_DEEP),
        (body("return " + "not " * 4000 + "1"), TOO_DEEP),
        (body("return a" + ".real" * 3000), TOO_DEEP),
        (body("return " + "lambda: " * 2000 + "1"), TOO_DEEP),
        (body("return " + "-" * 15000 + "1"), TOO_DEEP),
        (body("return abs" + "(abs" * 2000 + "(1)" + ")" * 2000), "too many nested parentheses"),
        ("def answer(scene, a):\n    return 1\n" + "# padding\n" * 3000, "longer than 20,000 characters"),
        (body("return 1\x00"), "source code string cannot contain null bytes"),
        (body("return '\ud800'"), "the program cannot be compiled: 'utf-8' codec can't encode character"),
        (
            "def answer(scene, a):\n"
            + "".join("    " * (i + 1) + f"for x{i} in a:\n" for i in range(25))
            + "    " * 26
            + "pass\n",
            "too many statically nested blocks",
        ),
        (body("return " + "9" * 5000), "Exceeds the limit (4300 digits) for integer string conversion"),
        (body("match a:\n    case {'k': v}:\n        return v"), "Match statements are not allowed"),
        (body("match a:\n    case Exception(__traceback__=t):\n        return t"), "Match statements are not allowed"),
        ("def answer(scene, a):\n    return (", "syntax error"),
    ],
    "builtins left out": [
        (body("return next(iter([1]))"), undefined("next")),
        (body("return chr(65)"), undefined("chr")),
        (body("return ord('a')"), undefined("ord")),
        (body("return hash('a')"), undefined("hash")),
        (body("return repr(scene)"), undefined("repr")),
        (body("return callable(scene)"), undefined("callable")),
        (body("return issubclass(bool, int)"), undefined("issubclass")),
        (body("return slice(1)"), undefined("slice")),
        (body("return bytes(10)"), undefined("bytes")),
        (body("return bytearray(10 ** 10)"), undefined("bytearray")),
        (body("return ascii(scene)"), undefined("ascii")),
        (body("return license()"), undefined("license")),
        (body("return copyright"), undefined("copyright")),
        (body("return aiter(scene)"), undefined("aiter")),
        (body("return id(scene)"), name("id")),
        (body("return super()"), name("super")),
        (body("breakpoint()\nreturn 1"), name("breakpoint")),
        (body("return locals()"), name("locals")),
        (body("exec('x = 1')\nreturn 1"), name("exec")),
        (body("return compile('1', 'x', 'eval')"), name("compile")),
        (body("return globals()"), name("globals")),
        (body("return getattr(scene, '__class__')"), name("getattr")),
        (body("return type(scene)"), name("type")),
        (body("print('leak')\nreturn 1"), name("print")),
        (body("return dir(scene)"), name("dir")),
        (body("exit(1)"), name("exit")),
        (body("setattr(scene, 'x', 1)\nreturn 1"), name("setattr")),
        (body("delattr(scene, 'drop')\nreturn 1"), name("delattr")),
        ("x = 1", NOT_A_FUNCTION),
        ("answer = 3", NOT_A_FUNCTION),
        ("class Evil:\n    pass\ndef answer(scene, a):\n    return 1", "ClassDef is not allowed"),
    ],
}

# Hangs inside one C call, where no Python-level timer can fire: the parent's wall-clock limit (or
# the worker's hard CPU limit, SIGXCPU) kills the worker.
HANGS = [
    body("return sum(range(10 ** 12))"),
    body("return all(map(bool, range(1, 10 ** 12)))"),
    body("return sum(map(abs, range(10 ** 12)))"),
    body("return max(zip(range(10 ** 12)))"),
]
HANG = re.compile(
    r"killed: (more than [\d.]+ s of wall-clock time|worker exceeded its limits "
    r"\(exit code -24\))"
)

# Programs that keep state from one call to the next (module globals, default arguments): an answer
# must depend on the scene and slots only, never on what the worker ran before.
STATEFUL = [
    "n = []\ndef answer(scene, a):\n    n.append(1)\n    return (len(n) + 1) // 2\n",
    "def answer(scene, a, n=[]):\n    n.append(1)\n    return (len(n) + 1) // 2\n",
    "seen = {}\ndef answer(scene, a):\n    seen[len(seen)] = 1\n    return len(seen) > 2\n",
]

CASES = [(group, source, refusal) for group, cases in HOSTILE.items() for source, refusal in cases]


def test_at_least_200_hostile_programs_in_every_class():
    counts = {group: len(cases) for group, cases in HOSTILE.items()}
    counts["C-level hangs"] = len(HANGS)
    counts["state between calls"] = len(STATEFUL)
    print("hostile programs per class:", counts, "total", sum(counts.values()))
    assert sum(counts.values()) >= 200 and min(counts.values()) >= 3
    assert len({source for _, source, _ in CASES}) == len(CASES)  # no program counted twice


@pytest.fixture(scope="module")
def pool():
    with SandboxPool(workers=1, limits=LIMITS) as p:
        yield p


@pytest.fixture(scope="module")
def episode_json():
    return cheap_episode(3, frames=4).model_dump_json()


@pytest.fixture(scope="module")
def good_answer(pool, episode_json):
    [out] = pool.run(episode_json, [Task(GOOD, {"a": 1})])
    assert out.ok, out.error
    return out.value


@pytest.mark.parametrize(
    "group, source, refusal", CASES, ids=[f"{g}-{i}" for g, cases in HOSTILE.items() for i in range(len(cases))]
)
def test_hostile_program_is_refused(pool, episode_json, good_answer, group, source, refusal):
    """The specific refusal, and the next program in the same worker undisturbed. Compile-time
    refusals are the same in the parent (families and generated programs are compiled there too)."""
    bad, good = pool.run(episode_json, [Task(source, {"a": 1}), Task(GOOD, {"a": 1})])
    assert not bad.ok and refusal in bad.error, (bad.ok, bad.value, bad.error)
    assert good.ok and good.value == good_answer, good
    if bad.error.startswith("rejected: ") and refusal != NOT_A_FUNCTION:
        with pytest.raises(ProgramRejected, match=re.escape(refusal)):
            compile_program(source)


@pytest.mark.parametrize("source", HANGS)
def test_a_hang_inside_one_c_call_is_killed(episode_json, source):
    with SandboxPool(workers=1, limits=HANG_LIMITS) as hang_pool:
        [out] = hang_pool.run(episode_json, [Task(source, {"a": 1})])
        assert not out.ok and HANG.fullmatch(out.error), out.error
        assert hang_pool.restarts == 1  # the culprit alone in its batch: killed once, not retried
        [good] = hang_pool.run(episode_json, [Task(GOOD, {"a": 1})])
        assert good.ok


@pytest.mark.parametrize("source", STATEFUL)
def test_no_state_survives_from_one_call_to_the_next(pool, episode_json, source):
    outs = pool.run(episode_json, [Task(source, {"a": 1}) for _ in range(4)])
    assert all(o.ok and o.deterministic for o in outs), outs
    assert len({str(o.value) for o in outs}) == 1, [o.value for o in outs]


def test_limits_on_what_comes_back(pool, episode_json):
    """An answer of exactly the size limit passes; a program's error text and drop reason are cut."""
    fits, error, drop = pool.run(
        episode_json,
        [
            Task(body(f"return 'x' * {MAX_RESULT_BYTES - 2}"), {"a": 1}),
            Task(body("raise ValueError('x' * 10 ** 6)"), {"a": 1}),
            Task(body("return scene.drop('y' * 10 ** 6)"), {"a": 1}),
        ],
    )
    assert fits.ok and len(fits.value) == MAX_RESULT_BYTES - 2
    assert not error.ok and error.error == "ValueError: " + "x" * 300
    assert drop.ok and drop.value is None and drop.why == "y" * 80


def test_nothing_was_written():
    from pathlib import Path

    assert not Path(CANARY).exists()
