"""The house rules of docs/architecture.md, checked on the source tree.

Features are packages with one name in every layer; handlers reach the database only through
services; the layers import downwards only; nothing imports in a circle; no room grows past
about 600 lines; and each shared mechanism exists once.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "handlers", "storage", "localapi")
MAX_LINES = 600
FEATURES = ("answers", "travel", "officer", "feedback", "publishing", "cases", "appointments",
            "places", "privacy", "navigation")


def _modules() -> dict[str, Path]:
    found = {}
    for top in PRODUCT:
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _runtime_imports(path: Path) -> set[str]:
    """Modules ``path`` imports at run time, at module level or lazily inside a function
    (a lazy import only hides a circle); imports for the type checker alone do not count."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = {id(n) for node in ast.walk(tree)
                   if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for stmt in node.body for n in ast.walk(stmt)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in names if name in MODULES}


def _all_imports(path: Path) -> set[str]:
    """Every product module ``path`` names in an import, wherever the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return {n for n in names if n.split(".")[0] in PRODUCT}


def test_nothing_imports_in_a_circle() -> None:
    graph = {name: _runtime_imports(path) - {name} for name, path in MODULES.items()}
    # a package's __init__ imported through "from pkg import mod" is not an edge to pkg itself
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append([*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert circles == []


def test_handlers_reach_the_database_only_through_services() -> None:
    offenders = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items() if name.split(".")[0] == "handlers"
        for target in _all_imports(path) if target.split(".")[0] == "storage")
    assert offenders == []


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("storage", ("bot", "handlers", "localapi")),
    ("bot", ("handlers", "localapi")),
    ("localapi", ("bot", "handlers", "storage")),
])
def test_layers_import_downwards_only(layer: str, forbidden: tuple[str, ...]) -> None:
    allowed = {"bot.factory": {"handlers"}, "bot.sandbox": {"localapi"}}
    offenders = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items() if name.split(".")[0] == layer
        for target in _all_imports(path)
        if target.split(".")[0] in forbidden
        and target.split(".")[0] not in allowed.get(name, set()))
    assert offenders == []


def test_no_room_is_bigger_than_about_six_hundred_lines() -> None:
    big = {name: n for name, path in MODULES.items()
           if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert big == {}


def test_every_feature_has_its_name_in_each_layer() -> None:
    missing = []
    for feature in FEATURES:
        if not (ROOT / "bot" / feature).is_dir():
            missing.append(f"bot/{feature}/")
        if not ((ROOT / "handlers" / feature).is_dir()
                or (ROOT / "handlers" / f"{feature}.py").is_file()):
            missing.append(f"handlers/{feature}")
    assert missing == []


def _definitions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for name, path in MODULES.items():
        if name.split(".")[0] == "localapi":
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name].append(name)
    return found


@pytest.mark.parametrize("name", [
    "role_of", "HasRole", "RoleRepo", "AuditRepo", "PostRepo", "gettext", "CallbackData",
    "UnitOfWork", "JobRunner", "utcnow", "quote", "record",
])
def test_each_shared_mechanism_exists_once(name: str) -> None:
    assert len(_definitions()[name]) == 1, _definitions()[name]


def test_no_copies_of_the_time_helper() -> None:
    """UTCDateTime hands back aware values: nothing re-attaches the zone by hand."""
    assert _definitions().get("_aware", []) == [] and _definitions().get("aware", []) == []
