"""The dependency direction docs/ARCHITECTURE.md describes holds in the code: an app imports only
apps below it, so there are no cycles and, for example, orders never imports payment."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Bottom to top. An app may import the apps listed before it, never those after it.
LAYERS = ["core", "sms", "account", "shop", "shipping", "coupons", "cart", "orders", "payment", "erp", "chat"]
# Narrower promises than the layer order gives.
ONLY = {
    "core": set(),
    "sms": {"core"},
    "shop": {"core", "account"},
    "shipping": {"core", "account", "shop"},
    "coupons": {"core", "account", "shop"},
    "chat": {"core", "sms", "account", "shop", "orders"},
    "erp": {"core", "shop", "orders"},
}


def imported_apps(app: str, root: Path = ROOT) -> dict[str, list[str]]:
    """Other local apps imported by the app's runtime code (tests and migrations are left out)."""
    found: dict[str, list[str]] = {}
    for path in sorted((root / app).rglob("*.py")):
        relative = path.relative_to(root)
        if "tests" in relative.parts or "migrations" in relative.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in LAYERS and top != app:
                    found.setdefault(top, []).append(f"{relative}:{node.lineno}")
    return found


def test_layers_name_every_local_app():
    from core.seeding import LOCAL_APPS

    assert sorted(LAYERS) == sorted(LOCAL_APPS)


@pytest.mark.parametrize("app", LAYERS)
def test_app_imports_only_apps_below_it(app):
    allowed = ONLY.get(app, set(LAYERS[: LAYERS.index(app)]))

    violations = {other: where for other, where in imported_apps(app).items() if other not in allowed}

    assert violations == {}


def test_the_scan_sees_imports():
    """Guards the test above against a scanner that finds nothing."""
    assert "orders" in imported_apps("payment")
    assert "core" in imported_apps("shop")


def test_the_scan_finds_an_upward_import_even_inside_a_function(tmp_path):
    (tmp_path / "orders" / "tests").mkdir(parents=True)
    (tmp_path / "orders" / "late.py").write_text("def f():\n    from payment.models import Payment\n")
    (tmp_path / "orders" / "tests" / "test_x.py").write_text("import chat\n")

    assert imported_apps("orders", root=tmp_path) == {"payment": ["orders/late.py:2"]}
