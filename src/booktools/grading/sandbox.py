"""Run a submission's code in a sandbox: Debian's bubblewrap, as an unprivileged user.

    command(argv, readable=..., files=..., disk=...) -> the argv that runs ``argv``
    check() -> None, or SandboxUnavailable saying what to install

Inside the sandbox the process sees a fresh root holding only what it needs to run
Python: /usr, /etc and the system's libraries (read-only), the Python installation and
virtual environment that run the grader (read-only), the ``dlbook`` package (read-only),
the folders named in ``readable`` and the files named in ``files`` (read-only). The one
place it can write is a tmpfs of ``disk`` bytes at /tmp, which holds its working folder
``WORKDIR``: nothing the submission writes reaches the machine's disk, and it can write
no more than that. Nothing else of the machine is there: no course folder
(``source/``, the gradebook, the course config), no repository with the master
notebooks, no home folder. It has its own network namespace with no interface but a
loopback (no network), its own process and IPC namespaces, a clean environment, no
core dumps, and dies with the grader.

As root, bubblewrap builds the namespaces and util-linux's ``setpriv`` then drops to the
user ``nobody`` (uid 65534) with every capability removed before the submission's
Python starts, so the code holds no root even outside the sandbox's view.
A course needs: ``apt-get install bubblewrap`` (and util-linux, always there), and a
kernel that allows user namespaces (Debian's default).
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

__all__ = ["SANDBOX_UID", "WORKDIR", "SandboxUnavailable", "check", "command"]

SANDBOX_UID = 65534  # nobody
WORKDIR = "/tmp/work"  # the submission's working folder, in the sandbox's tmpfs
DISK = 2**30  # the tmpfs's size unless told
INSTALL_HINT = (
    "grading runs each submission in a sandbox and needs Debian's bubblewrap: "
    "`apt-get install bubblewrap` (as root), and a kernel that allows user "
    "namespaces (sysctl kernel.unprivileged_userns_clone=1 on older kernels)"
)


class SandboxUnavailable(RuntimeError):
    pass


def _is_root() -> bool:
    return os.geteuid() == 0


def _python_roots() -> list[Path]:
    """The Python installation, the virtual environment and the dlbook package."""
    import dlbook

    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    roots.add(Path(dlbook.__file__).resolve().parent)
    return sorted(roots)


def command(
    argv: list[str],
    readable: tuple[Path, ...] = (),
    files: dict[str, Path] | None = None,
    disk: int = DISK,
    info_fd: int | None = None,
) -> list[str]:
    """The argv that runs ``argv`` in the sandbox, in ``WORKDIR``.

    ``readable``: host folders seen read-only at the same path; ``files``: {path in the
    sandbox: host file} seen read-only; ``disk``: the size of its tmpfs; ``info_fd``:
    where bubblewrap writes the sandbox's first process id (JSON), if anywhere.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed; {INSTALL_HINT}")
    binds = [(Path(p), Path(p)) for p in (*_python_roots(), *readable)]
    binds += [(Path(host), Path(inside)) for inside, host in (files or {}).items()]
    info = [] if info_fd is None else ["--info-fd", str(info_fd)]
    return [
        bwrap,
        *_namespaces(),
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into the grader's terminal
        *info,
        *_system_mounts(disk),
        *_bind_mounts(binds),
        *_environment(),
        "--chdir",
        WORKDIR,
        "--",
        *_drop_root(),
        *argv,
    ]


def _namespaces() -> list[str]:
    """Options for the namespaces: no network, its own processes, IPC, host name and
    control-group view.

    As root, bubblewrap sets up the namespaces itself (no user namespace) and setpriv,
    inside, becomes nobody with no capabilities (``_drop_root``); otherwise
    bubblewrap's user namespace does both.
    """
    if _is_root():
        return [
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup",  # its control group is its whole view of them
        ]
    return ["--unshare-all"]  # user, ipc, pid, net, uts, cgroup


def _system_mounts(disk: int) -> list[str]:
    """What Python needs of the system, read-only; a fresh /proc and /dev; /tmp a
    tmpfs of ``disk`` bytes holding the working folder."""
    args = [
        "--ro-bind",
        "/usr",
        "/usr",
        "--ro-bind",
        "/etc",
        "/etc",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        str(disk),
        "--tmpfs",
        "/tmp",
        "--perms",
        "1777",
        "--dir",
        WORKDIR,
    ]
    # /bin, /lib...: links into /usr on a merged-/usr system, folders otherwise
    for name in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _bind_mounts(binds: list[tuple[Path, Path]]) -> list[str]:
    """Options that mount each (host path, path in the sandbox) of ``binds`` read-only.

    bubblewrap makes the folders above a mount point private (0700), which nobody could
    not cross: they are made first, open to all (they hold nothing else).
    """
    args, made = [], {Path("/"), Path("/tmp"), Path(WORKDIR)}
    for _, inside in binds:
        for parent in reversed(inside.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    for host, inside in binds:
        args += ["--ro-bind", str(host), str(inside)]
    return args


def _environment() -> list[str]:
    """Options for a clean environment: nothing of the grader's is passed on."""
    env = {
        "HOME": "/tmp",
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": "1",
        "LANG": "C.UTF-8",
    }
    args = ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args


def _drop_root() -> list[str]:
    """The commands that start the submission inside: as root, become nobody with no
    capabilities (setpriv); then forbid core dumps (prlimit), which the kernel could
    hand to a helper outside the sandbox.

    Without root there is nothing to drop: bubblewrap's user namespace holds none.
    """
    tools = {name: shutil.which(name) for name in ("setpriv", "prlimit")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        raise SandboxUnavailable(
            f"util-linux's {' and '.join(missing)} missing: the sandbox needs it "
            "(`apt-get install util-linux`)"
        )
    no_core = [tools["prlimit"], "--core=0:0", "--"]
    if not _is_root():
        return no_core
    return [
        tools["setpriv"],
        f"--reuid={SANDBOX_UID}",
        f"--regid={SANDBOX_UID}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
        *no_core,
    ]


PROBE = """\
import socket, sys
try:
    open(sys.argv[1]).close()
    sys.exit("the repository is readable")
except OSError:
    pass
names = sorted(name for _, name in socket.if_nameindex())
if names != ["lo"]:
    sys.exit(f"the sandbox has network interfaces {names}")
s = socket.socket()
s.settimeout(2)
try:
    s.connect(("127.0.0.1", int(sys.argv[2])))
    sys.exit("the machine's own 127.0.0.1 is reachable")
except OSError:
    pass
"""


@functools.cache
def check() -> None:
    """Raise SandboxUnavailable, saying what is missing, unless the sandbox works.

    It runs Python in the sandbox and checks that it can neither read the repository
    holding this module nor reach a network: the sandbox has no network interface but
    its own loopback, and a port listening on this machine's 127.0.0.1 is out of its
    reach. Nothing is sent anywhere but to this machine.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        argv = [sys.executable, "-c", PROBE, str(Path(__file__).resolve()), str(port)]
        try:
            result = subprocess.run(
                command(argv), capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(
                f"the sandbox did not start ({error}); {INSTALL_HINT}"
            ) from None
        listener.setblocking(False)
        try:
            listener.accept()[0].close()
            reached = True
        except BlockingIOError:
            reached = False
    if result.returncode != 0 or reached:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["?"]
        detail = "the machine's own 127.0.0.1 was reached" if reached else lines[-1]
        raise SandboxUnavailable(
            f"the sandbox does not work here ({detail}); {INSTALL_HINT}"
        )
