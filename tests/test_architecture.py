"""The import rules of docs/development.md that `lint-imports` cannot state: no module imports
one that imports it back, directly or through others (a package and its own modules
included, which import-linter's sibling check leaves out)."""

import grimp
import pytest

PACKAGES = ("api", "accounts", "audit", "patients", "notifications", "telehealth")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _cycles(graph) -> list[tuple[str, ...]]:
    cycles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycles.append((importer, *back))
    return cycles


def test_no_module_imports_one_that_imports_it_back(graph):
    assert _cycles(graph) == []


def test_a_function_level_import_back_counts_as_a_cycle(tmp_path, monkeypatch):
    # The check sees imports inside functions too, the kind that hid the old circles.
    package = tmp_path / "circle"
    package.mkdir()
    (package / "__init__.py").write_text("from circle.child import thing\n")
    (package / "child.py").write_text("def thing():\n    from circle import other\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    cycles = _cycles(grimp.build_graph("circle", cache_dir=None))

    assert ("circle", "circle.child", "circle") in cycles
