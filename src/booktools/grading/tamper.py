"""Scan a submission's own code for what an honest solution never does.

    scan(cells, aliases) -> list of reasons (empty for an honest submission)

``cells`` are the sources the student wrote (solution cells, and any cell that is not
the book's own); ``aliases`` maps the names that the notebook's imports bind to the
modules they name (``np`` -> ``numpy``, ``pc`` -> ``dlbook.perceptron``), taken from
every code cell. The scan reads code and runs none of it (a syntax error is reported
as such). Each reason names the cell and what was found, for an instructor to review:

- IPython hooks: ``get_ipython()``, input or AST transformers, event callbacks, magics
  registered, custom exception handlers;
- changes to libraries: assigning or deleting an attribute of numpy, torch, dlbook,
  math, builtins, sys or IPython (``np.allclose = ...``), ``setattr`` on them, or a
  function's ``__code__``;
- ways around the checks: trace, profile and audit hooks, ``sys.modules``, reloading
  or importing by computed name, ``exec``/``eval``/``compile``, frame and garbage
  collector introspection, ``ctypes``, signals, ``atexit``, subprocesses, sockets;
- file access outside the scratch folder: a string that is a path which is absolute,
  goes up (``..``) or starts at the home folder (``~/``).

The sandbox already stops reading the course or the masters; the scan says that a
submission tried, so that a person can decide.
"""

from __future__ import annotations

import ast

__all__ = ["aliases_of", "scan"]

GUARDED_ROOTS = ("numpy", "torch", "dlbook", "math", "builtins", "sys", "IPython")
SUSPECT_NAMES = {
    "get_ipython": "uses get_ipython() (IPython hooks)",
    "__import__": "imports by computed name (__import__)",
    "exec": "runs code from a string (exec)",
    "eval": "runs code from a string (eval)",
    "compile": "compiles code from a string (compile)",
    "__builtins__": "touches __builtins__",
    "globals": "reads or changes the global namespace (globals())",
    "breakpoint": "calls breakpoint()",
}
SUSPECT_ATTRIBUTES = {
    "input_transformers_cleanup": "registers an IPython input transformer",
    "input_transformers_post": "registers an IPython input transformer",
    "input_transformer_manager": "changes IPython's input transformers",
    "ast_transformers": "registers an IPython AST transformer",
    "register_magic_function": "registers an IPython magic",
    "set_custom_exc": "installs an IPython exception handler",
    "events": "registers an IPython event callback",
    "settrace": "installs a trace function",
    "setprofile": "installs a profile function",
    "addaudithook": "installs an audit hook",
    "modules": "touches sys.modules",
    "reload": "reloads a module",
    "__code__": "reads or replaces a function's code (__code__)",
    "__globals__": "reaches a function's globals (__globals__)",
    "_getframe": "inspects the call stack (sys._getframe)",
    "f_back": "inspects the call stack (f_back)",
    "f_locals": "inspects another frame's variables (f_locals)",
    "f_globals": "inspects another frame's globals (f_globals)",
    "get_objects": "walks the garbage collector's objects",
    "get_referrers": "walks the garbage collector's referrers",
}
SUSPECT_MODULES = {
    "ctypes": "imports ctypes",
    "gc": "imports gc",
    "inspect": "imports inspect",
    "importlib": "imports importlib",
    "atexit": "registers exit handlers (atexit)",
    "signal": "changes signal handlers (signal)",
    "subprocess": "starts processes (subprocess)",
    "socket": "opens network sockets (socket)",
    "threading": "starts threads (threading)",
    "multiprocessing": "starts processes (multiprocessing)",
    "builtins": "imports builtins",
    "sys": "imports sys",
    "os": "imports os",
    "shutil": "imports shutil",
    "sqlite3": "opens databases (sqlite3)",
    "pickle": "unpickles data (pickle)",
    "marshal": "loads code objects (marshal)",
}


def aliases_of(sources: list[str]) -> dict[str, str]:
    """{name bound by an import: the module or object it names}, over every cell."""
    aliases = {"__builtins__": "builtins"}
    for source in sources:
        try:
            tree = ast.parse(_strip_magics(source))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    name = alias.asname or alias.name.split(".")[0]
                    aliases[name] = alias.name if alias.asname else name
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _strip_magics(source: str) -> str:
    """Comment out IPython magics and shell escapes, so ast can parse the rest."""
    return "\n".join(
        f"#{line}" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _guarded(name: str | None, aliases: dict[str, str]) -> str | None:
    if name is None:
        return None
    target = aliases.get(name, "")
    if target.split(".")[0] in GUARDED_ROOTS:
        return target
    return None


def _outside_scratch(text: str) -> bool:
    """A string that looks like a path outside the working folder."""
    if "\n" in text or " " in text.strip() or len(text) < 2:
        return False
    parts = text.replace("\\", "/").split("/")
    return text.startswith(("/", "~/")) and len(parts) > 2 or ".." in parts


def scan(cells: list[tuple[str, str]], aliases: dict[str, str]) -> list[str]:
    """Reasons to review ``cells``: (label, source) pairs of code the student wrote."""
    reasons: list[str] = []
    for label, source in cells:
        try:
            tree = ast.parse(_strip_magics(source))
        except SyntaxError as error:
            reasons.append(
                f"{label}: not valid Python ({error.msg}, line {error.lineno})"
            )
            continue
        for node in ast.walk(tree):
            for what in _findings(node, aliases):
                reason = f"{label}, line {getattr(node, 'lineno', '?')}: {what}"
                if reason not in reasons:
                    reasons.append(reason)
    return reasons


def _findings(node: ast.AST, aliases: dict[str, str]) -> list[str]:
    """What one node of the syntax tree does that an honest solution never does."""
    for kinds, check in CHECKS:
        if isinstance(node, kinds):
            return check(node, aliases)
    return []


def _changes_library(node, aliases: dict[str, str]) -> list[str]:
    """An assignment or ``del`` whose target is a library or one of its attributes.

    ``np = ...`` rebinds the notebook's name for numpy; ``np.allclose = ...`` and
    ``del torch.softmax`` change the library itself.
    """
    if isinstance(node, (ast.Assign, ast.Delete)):
        stack = list(node.targets)
    else:
        stack = [node.target]
    found = []
    while stack:
        target = stack.pop()
        if isinstance(target, (ast.Tuple, ast.List)):
            stack += target.elts
        elif isinstance(target, ast.Name) and _guarded(target.id, aliases):
            found.append(
                f"rebinds {target.id} (the notebook's name for {aliases[target.id]})"
            )
        elif isinstance(target, (ast.Attribute, ast.Subscript)):
            module = _guarded(_root(target), aliases)
            if module:
                found.append(
                    f"changes {ast.unparse(target)} (an attribute of {module})"
                )
    return found


def _suspect_name(node: ast.Name, aliases: dict[str, str]) -> list[str]:
    """A name such as ``exec`` or ``get_ipython``."""
    return [SUSPECT_NAMES[node.id]] if node.id in SUSPECT_NAMES else []


def _suspect_attribute(node: ast.Attribute, aliases: dict[str, str]) -> list[str]:
    """An attribute such as ``settrace`` or ``__code__``.

    ``modules`` only of ``sys``: other objects have innocent ``modules``
    (``net.modules()``).
    """
    if node.attr not in SUSPECT_ATTRIBUTES:
        return []
    if node.attr == "modules" and _root(node) != "sys":
        return []
    return [SUSPECT_ATTRIBUTES[node.attr]]


def _suspect_import(node, aliases: dict[str, str]) -> list[str]:
    """An import of a module such as ``ctypes``, ``gc`` or ``subprocess``."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        names = [node.module or ""]
    roots = [name.split(".")[0] for name in names]
    return [SUSPECT_MODULES[root] for root in roots if root in SUSPECT_MODULES]


def _setattr_on_library(node: ast.Call, aliases: dict[str, str]) -> list[str]:
    """``setattr(np, ...)`` or ``delattr(torch, ...)`` (any callee of that name)."""
    func = node.func
    if isinstance(func, ast.Attribute):
        called = func.attr
    else:
        called = func.id if isinstance(func, ast.Name) else None
    if called not in ("setattr", "delattr") or not node.args:
        return []
    module = _guarded(_root(node.args[0]), aliases)
    return [f"calls {called} on {module}"] if module else []


def _path_outside(node: ast.Constant, aliases: dict[str, str]) -> list[str]:
    """A string that names a path outside the scratch folder."""
    if not isinstance(node.value, str) or not _outside_scratch(node.value):
        return []
    return [f"names the path {node.value[:120]!r}, outside the scratch folder"]


# which check reads which kind of node (each node is of one kind at most)
CHECKS = [
    ((ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete), _changes_library),
    (ast.Name, _suspect_name),
    (ast.Attribute, _suspect_attribute),
    ((ast.Import, ast.ImportFrom), _suspect_import),
    (ast.Call, _setattr_on_library),
    (ast.Constant, _path_outside),
]
