"""Every store function that is handed a tenant binds its transaction to it (row-level
security, worker/store/tenancy.py): a new query added without `bind` would see nothing in
production, where the connection is not a superuser. Checked on the source, so the whole store
is covered, not just the paths the integration tests happen to run."""

from __future__ import annotations

import ast
from pathlib import Path

STORE = Path(__file__).resolve().parents[2] / "worker" / "store"
# Tables without row-level security (migration 0012 says why): nothing to bind.
NO_RLS = {
    "addresses.py": {"add_address", "remove_address", "addresses_of"},
    "api_keys.py": {"create_key", "list_keys"},
    "rejections.py": {"list_rejected", "get_rejected"},
    "tenants.py": {"register_client", "client_exists"},
}


def _calls(func: ast.FunctionDef) -> set[str]:
    names = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Call):
            target = node.func
            names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def test_every_store_function_given_a_session_and_a_client_binds_the_transaction() -> None:
    unbound = []
    for path in sorted(STORE.glob("*.py")):
        if path.name == "tenancy.py":
            continue
        for func in ast.parse(path.read_text()).body:
            if not isinstance(func, ast.FunctionDef) or func.name.startswith("_"):
                continue
            params = {a.arg for a in func.args.args + func.args.kwonlyargs}
            if not {"session", "client_id"} <= params:
                continue
            if func.name in NO_RLS.get(path.name, set()):
                continue
            if not _calls(func) & {"bind", "all_clients"}:
                unbound.append(f"{path.name}:{func.name}")
    assert unbound == []
