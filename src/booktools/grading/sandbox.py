"""Run a submission's code in a sandbox: Debian's bubblewrap, as an unprivileged user.

    command(argv, workdir, readable=..., writable=...) -> the argv that runs ``argv``
    check() -> None, or SandboxUnavailable saying what to install

Inside the sandbox the process sees a fresh root holding only what it needs to run
Python: /usr, /etc and the system's libraries (read-only), the Python installation and
virtual environment that run the grader (read-only), the ``dlbook`` package (read-only),
the files named in ``readable`` (read-only) and, writable, the scratch folder
``workdir`` (its working directory) and the folders in ``writable``. Nothing else of
the machine is there: no course folder (``source/``, the gradebook, the course
config), no repository with the master notebooks, no home folder. It has its own
network namespace with no interface but a loopback (no network), its own process and
IPC namespaces, a clean environment, and dies with the grader.

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
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["SANDBOX_UID", "SandboxUnavailable", "check", "command", "give_to_sandbox"]

SANDBOX_UID = 65534  # nobody
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
    workdir: Path,
    readable: tuple[Path, ...] = (),
    writable: tuple[Path, ...] = (),
) -> list[str]:
    """The argv that runs ``argv`` in the sandbox, in ``workdir``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed; {INSTALL_HINT}")
    binds = [("--ro-bind", p) for p in (*_python_roots(), *readable)]
    binds += [("--bind", p) for p in (workdir, *writable)]
    return [
        bwrap,
        *_namespaces(),
        "--die-with-parent",
        "--new-session",  # no TIOCSTI into the grader's terminal
        *_system_mounts(),
        *_bind_mounts(binds),
        *_environment(),
        "--chdir",
        str(workdir),
        "--",
        *_drop_root(),
        *argv,
    ]


def _namespaces() -> list[str]:
    """Options for the namespaces: no network, its own processes, IPC and host name.

    As root, bubblewrap sets up the namespaces itself (no user namespace) and setpriv,
    inside, becomes nobody with no capabilities (``_drop_root``); otherwise
    bubblewrap's user namespace does both.
    """
    if _is_root():
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    return ["--unshare-all"]  # user, ipc, pid, net, uts, cgroup


def _system_mounts() -> list[str]:
    """What Python needs of the system, read-only; a fresh /proc, /dev and /tmp."""
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
        "--tmpfs",
        "/tmp",
    ]
    # /bin, /lib...: links into /usr on a merged-/usr system, folders otherwise
    for name in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def _bind_mounts(binds: list[tuple[str, Path]]) -> list[str]:
    """Options that mount each (option, path) of ``binds`` at the same path.

    bubblewrap makes the folders above a mount point private (0700), which nobody could
    not cross: they are made first, open to all (they hold nothing else).
    """
    args, made = [], set()
    for _, path in binds:
        for parent in reversed(Path(path).parents):
            if parent != Path("/") and parent not in made and parent != Path("/tmp"):
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
    for option, path in binds:
        args += [option, str(path), str(path)]
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
    """As root, the command that becomes nobody, with no capabilities, inside.

    Without root there is nothing to drop: bubblewrap's user namespace holds none.
    """
    if not _is_root():
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise SandboxUnavailable(
            "util-linux's setpriv is missing: it drops root to nobody inside "
            "the sandbox"
        )
    return [
        setpriv,
        f"--reuid={SANDBOX_UID}",
        f"--regid={SANDBOX_UID}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


def give_to_sandbox(path: Path) -> None:
    """Make ``path`` (a scratch folder, recursively) writable by the sandbox's user."""
    if not _is_root():
        return
    for item in [path, *path.rglob("*")]:
        os.chown(item, SANDBOX_UID, SANDBOX_UID, follow_symlinks=False)


@functools.cache
def check() -> None:
    """Raise SandboxUnavailable, saying what is missing, unless the sandbox works.

    It runs Python in the sandbox and checks that it can neither read the repository
    holding this module nor reach the network.
    """
    probe = (
        "import socket, sys\n"
        f"try:\n    open({str(Path(__file__).resolve())!r}).close()\n"
        "    sys.exit('the repository is readable')\n"
        "except OSError:\n    pass\n"
        "s = socket.socket()\ns.settimeout(2)\n"
        "try:\n    s.connect(('1.1.1.1', 53))\n"
        "    sys.exit('the network is reachable')\n"
        "except OSError:\n    pass\n"
    )
    with tempfile.TemporaryDirectory(prefix="dlbook-sandbox-check-") as tmp:
        work = Path(tmp)
        give_to_sandbox(work)
        argv = command([sys.executable, "-c", probe], work)
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise SandboxUnavailable(
                f"the sandbox did not start ({error}); {INSTALL_HINT}"
            ) from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["?"]
        raise SandboxUnavailable(
            f"the sandbox does not work here ({detail[0]}); {INSTALL_HINT}"
        )
