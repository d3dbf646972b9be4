"""Several "hosts" on one machine: Linux network namespaces on a bridge (``ip netns``, root).

Host ``i`` is the namespace ``<tag>h<i>`` with its own loopback and one veth interface holding
``10.<a>.<b>.<10 + i>/24``; the veth peers hang on a bridge in the root namespace holding
``.1``, so the hosts reach each other and the root namespace (where the S3 server listens), and
nothing else: no address outside this machine's own namespaces is ever used. Processes started
with ``Hosts.run``/``popen`` live in that host's namespace; ``kill_host`` / ``close`` SIGKILL
every process still in it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check, timeout=30)


def netns_available() -> str | None:
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    probe = f"synthprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except (OSError, subprocess.CalledProcessError) as e:
        return f"ip netns add failed: {getattr(e, 'stderr', e)}"
    _ip("netns", "delete", probe, check=False)
    return None


class Hosts:
    _made = 0  # test beds made by this process: each gets its own names and subnet

    def __init__(self, n: int):
        Hosts._made += 1
        self.n = n
        self.tag = f"sy{os.getpid() % 10000}{Hosts._made % 100}"
        net = (os.getpid() + Hosts._made) % 250 + 1
        self.subnet = f"10.213.{net}"
        self.bridge_ip = f"{self.subnet}.1"
        self.names = [f"{self.tag}h{i}" for i in range(n)]
        self.ips = [f"{self.subnet}.{10 + i}" for i in range(n)]
        self.bridge = f"{self.tag}br"

    def __enter__(self) -> Hosts:
        try:
            _ip("link", "add", self.bridge, "type", "bridge")
            _ip("addr", "add", f"{self.bridge_ip}/24", "dev", self.bridge)
            _ip("link", "set", self.bridge, "up")
            for i, (name, ip) in enumerate(zip(self.names, self.ips)):
                outside, inside = f"{self.tag}v{i}", f"{self.tag}e{i}"
                _ip("netns", "add", name)
                _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
                _ip("link", "set", inside, "netns", name)
                _ip("-n", name, "addr", "add", f"{ip}/24", "dev", inside)
                _ip("-n", name, "link", "set", inside, "up")
                _ip("-n", name, "link", "set", "lo", "up")
                _ip("link", "set", outside, "master", self.bridge)
                _ip("link", "set", outside, "up")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def prefix(self, i: int) -> list[str]:
        return ["ip", "netns", "exec", self.names[i]]

    def run(self, i: int, args: list[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run([*self.prefix(i), *args], **kw)

    def popen(self, i: int, args: list[str], **kw) -> subprocess.Popen:
        return subprocess.Popen([*self.prefix(i), *args], **kw)

    def pids(self, i: int) -> list[int]:
        out = _ip("netns", "pids", self.names[i], check=False).stdout
        return [int(p) for p in out.split()]

    def pids_named(self, i: int, name: str) -> list[int]:
        found = []
        for pid in self.pids(i):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                    found.append(pid)
            except OSError:
                pass
        return found

    def kill_host(self, i: int) -> None:
        for pid in self.pids(i):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def close(self) -> None:
        for i, name in enumerate(self.names):
            self.kill_host(i)
            # a namespace outlives its deletion while a dying process holds it: remove the link now
            _ip("link", "delete", f"{self.tag}v{i}", check=False)
            _ip("netns", "delete", name, check=False)
        _ip("link", "delete", self.bridge, check=False)
