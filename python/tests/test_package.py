"""The package's surface: what the stubs declare exists, and help() documents it."""

from __future__ import annotations

import ast
import pathlib
import pydoc
import shutil
import subprocess
import sys

import pytest

import storpool_rs
from storpool_rs import _native

STUB = pathlib.Path(storpool_rs.__file__).with_name("_native.pyi")


def _stub_classes() -> dict:
    """Each class of the stub (but the result TypedDicts) with its declared members."""
    tree = ast.parse(STUB.read_text())
    classes = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = {getattr(b, "id", None) for b in node.bases}
            if "TypedDict" in bases:
                continue
            classes[node.name] = {
                item.name
                for item in node.body
                if isinstance(item, ast.FunctionDef) and not item.name.startswith("_")
            }
    return classes


def _stub_functions() -> set:
    """The module-level functions of the stub."""
    tree = ast.parse(STUB.read_text())
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_class_and_method_the_stub_declares_exists():
    for name in _stub_functions():
        assert callable(getattr(_native, name)), name
    for name, members in _stub_classes().items():
        cls = getattr(_native, name)
        for member in members:
            assert hasattr(cls, member), f"{name}.{member}"


def test_every_public_name_of_the_module_is_in_the_stub():
    declared = set(_stub_classes()) | _stub_functions() | {"__version__"}
    public = {n for n in dir(_native) if not n.startswith("_")} | {"__version__"}
    assert public <= declared, public - declared
    for name, members in _stub_classes().items():
        cls = getattr(_native, name)
        runtime = {m for m in vars(cls) if not m.startswith("_")}
        assert runtime <= members | {"args", "with_traceback", "add_note"}, (name, runtime - members)


def test_exceptions_form_one_hierarchy():
    for sub in (storpool_rs.NotFoundError, storpool_rs.ConflictError,
                storpool_rs.InvalidInputError, storpool_rs.ConfigurationError,
                storpool_rs.ClusterError):
        assert issubclass(sub, storpool_rs.StorPoolError)
    assert issubclass(storpool_rs.StorPoolError, Exception)


def test_help_documents_the_classes_and_their_methods():
    text = pydoc.render_doc(storpool_rs, renderer=pydoc.plaintext)
    assert "Driver" in text and "Connector" in text and "StorPoolError" in text
    driver_help = pydoc.render_doc(storpool_rs.Driver, renderer=pydoc.plaintext)
    assert "create_volume(self, /, volume_id, size_gib, specs=None)" in driver_help
    assert "storpool.conf" in driver_help
    for method in ("create_volume", "retype_volume", "connection_info"):
        assert getattr(storpool_rs.Driver, method).__doc__
    assert storpool_rs.Connector.connect.__doc__
    for function in (storpool_rs.import_image, storpool_rs.export_image, storpool_rs.image_info):
        assert function.__doc__ and function.__text_signature__
    assert storpool_rs.__version__


def test_the_stubs_and_the_pure_python_modules_type_check_strictly(tmp_path):
    pytest.importorskip("mypy", reason="mypy is not installed")
    # The files are checked from a copy: installed in site-packages, mypy would take the folder
    # above the package for the project's root and refuse the typing_extensions.py beside it
    # ("This file shadows library module").
    installed = pathlib.Path(storpool_rs.__file__).parent
    package = tmp_path / "storpool_rs"
    package.mkdir()
    checked_files = ["_native.pyi", "__init__.py", "_green.py"]
    for name in checked_files:
        shutil.copyfile(installed / name, package / name)
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(tmp_path / "mypy-cache"), *(str(package / name) for name in checked_files)],
        capture_output=True, text=True, check=False, cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
