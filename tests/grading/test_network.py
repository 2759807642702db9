"""Nothing addressed outside this machine: the sandbox has no network, and no module,
test, benchmark or CI script names an address other than loopback.

The sandbox's network is checked without sending anything anywhere: it has no
interface but its own loopback, and a port listening on this machine's 127.0.0.1 is
out of its reach (the same port, from here, answers).

The scan reads every file under src/, tests/, benchmarks/ and .ci/ (as git lists them,
untracked files too) and fails on:

- an IPv4 literal: four dot-separated numbers, each 0 to 255, with no letter, digit
  or dot-and-number attached on either side ("1.0.4.post1", "2.13.0" and "3.11.7.2.1"
  are versions, not addresses), other than 127.x.x.x;
- an IPv6 literal, where code gives one: in brackets after "://", or as a whole
  quoted string, with a hex digit in it ("::" alone, as in ``split("::")``, is not one),
  other than ::1;
- a host name, where code addresses one: what follows a URL's scheme and "://", the
  quoted name in the address a socket's ``connect`` or ``create_connection`` gets, or
  the name given to ``HTTPConnection`` or a resolver (``getaddrinfo``,
  ``gethostbyname``), other than localhost; a host name is letters, digits and
  hyphens in dot-separated labels (``module://a_b.c`` names none). A dotted name in
  prose or code (``torch.nn``, a citation) addresses nothing and is not one.

Host names that tests only compare as text, never request, are listed in
``ALLOWED`` with the reason.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from booktools.grading import sandbox

SCANNED = ("src", "tests", "benchmarks", ".ci")
# third-party files kept as they come, not read: axe-core (minified; its WCAG
# criterion numbers look like IPv4 addresses), which the accessibility test puts into
# pages whose every request outside 127.0.0.1 is aborted
VENDORED = ("tests/book/axe-core/",)
# (file, host): why it may appear
ALLOWED = {
    ("tests/book/test_book_build.py", "github.com"): "the repository URL, as text",
    ("tests/book/test_book_build.py", "colab.research.google.com"): (
        "the Colab links of the built pages, compared as text"
    ),
    ("tests/book/test_browser.py", "colab.research.google.com"): (
        "the Colab links' form, as text; the browser aborts every request that "
        "leaves 127.0.0.1"
    ),
}
IPV4 = re.compile(r"(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?![\w]|\.\d)")
IPV6_IN_URL = re.compile(r"://\[([0-9A-Fa-f:.%\w]+)\]")
IPV6_STRING = re.compile(r"""(['"])([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)\1""")
URL_HOST = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^/\s@'\"]*@)?([\w.\\-]+)")
TUPLE_CALL = re.compile(
    r"""\b(?:connect|connect_ex|create_connection)\s*\(\s*\(\s*(['"])([^'"]+)\1"""
)
STRING_CALL = re.compile(
    r"\b(?:HTTPS?Connection|gethostbyname|gethostbyname_ex|gethostbyaddr|getaddrinfo)"
    r"""\s*\(\s*(['"])([^'"]+)\1"""
)
HOST_NAME = re.compile(
    r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(?:\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*"
)


def addresses(text: str) -> set[str]:
    """The addresses and host names that ``text`` gives, loopback left out."""
    found = set()
    for match in IPV4.finditer(text):
        try:
            address = ipaddress.IPv4Address(match[1])
        except ValueError:
            continue
        if not address.is_loopback:
            found.add(match[1])
    candidates = [m[1] for m in IPV6_IN_URL.finditer(text)]
    candidates += [m[2] for m in IPV6_STRING.finditer(text)]
    for candidate in candidates:
        if candidate.count(":") < 2 or not re.search(r"[0-9A-Fa-f]", candidate):
            continue
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        if not address.is_loopback:
            found.add(candidate)
    names = [m[1].replace("\\", "") for m in URL_HOST.finditer(text)]
    names += [m[2] for m in TUPLE_CALL.finditer(text)]
    names += [m[2] for m in STRING_CALL.finditer(text)]
    for name in names:
        name = name.lower().rstrip(".")
        if not HOST_NAME.fullmatch(name):
            continue  # no host name: module://a_b, a template such as {host}
        if name != "localhost" and not _is_loopback_ip(name):
            found.add(name)
    return found


def _is_loopback_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def scanned_files(root: Path) -> list[Path]:
    """The files under ``SCANNED``, as git lists them (untracked ones too); outside a
    git checkout, every file there but caches and build output."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *SCANNED],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0:
        names = listed.stdout.split()
    else:
        names = [
            path.relative_to(root).as_posix()
            for folder in SCANNED
            for path in (root / folder).rglob("*")
            if not {"__pycache__", ".pytest_cache"} & set(path.parts)
            and not any(part.endswith(".egg-info") for part in path.parts)
        ]
    return [
        root / name
        for name in sorted(set(names))
        if (root / name).is_file() and not name.startswith(VENDORED)
    ]


def scan(root: Path, allowed=ALLOWED) -> dict[str, set[str]]:
    """{file: the addresses it gives} for every scanned file that gives one, but
    those ``allowed``."""
    found = {}
    for path in scanned_files(root):
        data = path.read_bytes()
        if b"\0" in data:
            continue  # not text
        name = path.relative_to(root).as_posix()
        hits = {
            a
            for a in addresses(data.decode("utf-8", "replace"))
            if (name, a) not in allowed
        }
        if hits:
            found[name] = hits
    return found


def test_no_file_addresses_anything_but_this_machine():
    assert scan(REPO_ROOT) == {}
    assert len(scanned_files(REPO_ROOT)) > 50  # the scan saw the files
    # and every name allowed is still there to allow (the list grows no stale entry)
    found = scan(REPO_ROOT, allowed={})
    assert {(name, host) for name, hosts in found.items() for host in hosts} == set(
        ALLOWED
    )


def test_the_scan_finds_planted_addresses(tmp_path):
    """A file with addresses in every form the rule names (built here, so that this
    file holds none), beside loopback and version numbers, which pass."""
    v4 = ".".join(["203", "0", "113", "7"])
    v6 = ":".join(["2001", "db8", "", "1"])
    planted = {
        f"socket.create_connection(('{v4}', 53))": {v4},
        f"URL = 'http://{v4}:8080/x'": {v4},
        f"server = '[{v6}]'\nurl = 'http://[{v6}]:80/'": {v6},
        f"HOST = '{v6}'": {v6},
        "requests.get('https://" + "pypi" + ".org/simple/')": {"pypi.org"},
        "socket.create_connection(('" + "example" + ".com', 443))": {"example.com"},
        "socket.getaddrinfo('" + "example" + ".net', None)": {"example.net"},
        "s.connect(('" + "gradebook-server', 5432))": {"gradebook-server"},
        "http.client.HTTPSConnection('" + "pypi" + ".org')": {"pypi.org"},
    }
    for text, expected in planted.items():
        assert addresses(text) == expected, text
    harmless = (
        "http://127.0.0.1:8000/ http://localhost:1/ http://[::1]:9/ ('127.0.0.9', 1)\n"
        "'::1' torch==2.13.0 nbgrader 1.0.4.post1 version 3.11.7.2.1 x[::2]\n"
        "nodeid.split('::', 1) f'sqlite:///{path}' torch.nn.functional d2l" + ".ai\n"
        "rules.get('points', 0) s.connect(('localhost', 80)) f'http://{host}:1/'\n"
        "app.connect('html-page-context', f) module://matplotlib_inline.backend\n"
    )
    assert addresses(harmless) == set()
    # and the whole scan fails on a planted file
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_planted.py").write_text(next(iter(planted)))
    assert scan(tmp_path) == {"tests/test_planted.py": {v4}}


def test_the_sandbox_has_no_network_but_its_own_loopback():
    probe = (
        "import socket, sys\n"
        "print(sorted(name for _, name in socket.if_nameindex()))\n"
        "s = socket.socket()\n"
        "s.settimeout(5)\n"
        "print(s.connect_ex(('127.0.0.1', int(sys.argv[1]))))\n"
    )
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            listener.accept()[0].close()  # from here, the port answers
        argv = sandbox.command([sys.executable, "-c", probe, str(port)])
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nothing came from the sandbox
    assert result.returncode == 0, result.stderr
    interfaces, connected = result.stdout.splitlines()
    assert interfaces == "['lo']"
    assert connected != "0", "the sandbox reached the machine's 127.0.0.1"


def test_the_check_catches_a_sandbox_that_shares_the_network(monkeypatch):
    """Without its own network namespace, the sandbox's check fails (it sees this
    machine's interfaces, or reaches its 127.0.0.1)."""
    shared = [arg for arg in sandbox._namespaces() if arg != "--unshare-net"]
    if "--unshare-all" in shared:
        shared = ["--unshare-all", "--share-net"]
    monkeypatch.setattr(sandbox, "_namespaces", lambda: shared)
    with pytest.raises(sandbox.SandboxUnavailable, match="network interfaces|reach"):
        sandbox.check.__wrapped__()
