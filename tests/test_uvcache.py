"""uv's cache read conservatively (install/uvcache.py): cache trees laid out as uv 0.13.9 lays them
out (the pointer bytes copied from real ones), and the real uv asked where its cache is."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from fwsetup import runner
from fwsetup.install import uvcache
from fwsetup.install.backends import find_uv

PYPI_URL = (
    "https://files.pythonhosted.org/packages/ef/a6/62565a6e1cf69e10f5727360368e451d4b7f58beeac6173dc9db836a5b46/"
    "iniconfig-2.0.0-py3-none-any.whl"
)
INDEX = "https://download.example.org/whl/cpu"
TORCH_URL = "https://download.example.org/whl/cpu/torch-2.13.0%2Bcpu-cp311-cp311-manylinux_2_28_x86_64.whl"


def _cache(root: Path, default_trusted: bool = True) -> uvcache.Cache:
    return uvcache.Cache(root, "wheels-v8", "simple-v28", "archive-v0", default_trusted)


def pointer(
    root: Path, bucket: str, name: str, stem: str, url: str, archive: str = "ByFJZL2Ra_8pX3Tc", unpacked: bool = True
) -> Path:
    """A `.http` pointer as uv writes it in wheels-v8/<bucket>/<name>/: msgpack [archive id, hashes,
    filename, 0, size], then the HTTP cache policy (which holds the URL); the unpacked wheel in
    archive-v0/<id>/."""
    folder = root / "wheels-v8" / bucket / name
    folder.mkdir(parents=True, exist_ok=True)
    filename = url.rsplit("/", 1)[-1].replace("%2B", "+").encode()
    data = (
        bytes([0x95, 0xA0 + len(archive)]) + archive.encode()
        + b"\x91\x81\xa6Sha256\xd9\x40" + b"b6a85871" * 8
        + bytes([0xD9, len(filename)]) + filename + b"\x00\xcd\x17\x04"
        + b"\x00" * 16 + b"np22M_OKlZDE3Mqk" + url.encode() + b"\x00" * 64
    )  # fmt: skip
    path = folder / f"{stem}.http"
    path.write_bytes(data)
    (folder / f"{stem}.lock").write_bytes(b"")
    if unpacked:
        (root / "archive-v0" / archive / "iniconfig").mkdir(parents=True, exist_ok=True)
    return path


def page(root: Path, digest: str, name: str, index: str) -> None:
    """The simple-API page uv keeps for an index's package: it holds the page's URL."""
    folder = root / "simple-v28" / "index" / digest
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.rkyv").write_bytes(b"\x00" * 32 + b"eboSv5YCUo3j3FTh" + f"{index}/{name}/".encode() + b"\x00" * 8)


def test_a_pypi_wheel_counts_when_its_pointer_and_unpacked_files_are_there(tmp_path: Path) -> None:
    pointer(tmp_path, "pypi", "iniconfig", "2.0.0-py3-none-any", PYPI_URL)
    lookup = uvcache.Lookup(_cache(tmp_path), [uvcache.PYPI])
    assert lookup.cached("iniconfig", PYPI_URL)
    assert lookup.cached("IniConfig", PYPI_URL)  # names are normalised as uv's folders are
    assert not lookup.cached("iniconfig", PYPI_URL.replace("2.0.0", "2.1.0"))  # another version
    assert not lookup.cached("iniconfig", PYPI_URL.replace("/ef/a6/", "/00/00/"))  # another file


def test_metadata_alone_is_not_the_wheel(tmp_path: Path) -> None:
    """What resolving leaves (`uv pip compile`, or a wheel uv only read the metadata of: seen for
    nvidia-nccl-cu13 aarch64): `<version>-<tags>.msgpack`, no `.http`."""
    folder = tmp_path / "wheels-v8" / "pypi" / "iniconfig"
    folder.mkdir(parents=True)
    (folder / "2.0.0-py3-none-any.msgpack").write_bytes(b"\x85\xa4name\xa9iniconfig" + PYPI_URL.encode())
    assert not uvcache.Lookup(_cache(tmp_path), [uvcache.PYPI]).cached("iniconfig", PYPI_URL)


def test_a_pointer_whose_unpacked_wheel_is_gone_is_not_cached(tmp_path: Path) -> None:
    pointer(tmp_path, "pypi", "iniconfig", "2.0.0-py3-none-any", PYPI_URL, unpacked=False)
    assert not uvcache.Lookup(_cache(tmp_path), [uvcache.PYPI]).cached("iniconfig", PYPI_URL)


def test_a_pointer_uv_cannot_have_written_is_not_cached(tmp_path: Path) -> None:
    path = pointer(tmp_path, "pypi", "iniconfig", "2.0.0-py3-none-any", PYPI_URL)
    path.write_bytes(b"garbage " + PYPI_URL.encode())
    assert not uvcache.Lookup(_cache(tmp_path), [uvcache.PYPI]).cached("iniconfig", PYPI_URL)
    assert uvcache._archive_id(b"") is None
    assert uvcache._archive_id(b"\x95\xb0../../etc/passwd") is None  # an id is a name, never a path


def test_the_pypi_bucket_counts_only_for_uvs_default_index(tmp_path: Path) -> None:
    """`https://pypi.org/simple/` with its slash is another bucket to uv (index/<digest>); and the
    default is not trusted where a variable or a uv config file may name indexes of its own."""
    pointer(tmp_path, "pypi", "iniconfig", "2.0.0-py3-none-any", PYPI_URL)
    assert not uvcache.Lookup(_cache(tmp_path), ["https://pypi.org/simple/"]).cached("iniconfig", PYPI_URL)
    assert not uvcache.Lookup(_cache(tmp_path), [INDEX]).cached("iniconfig", PYPI_URL)
    assert not uvcache.Lookup(_cache(tmp_path, default_trusted=False), [uvcache.PYPI]).cached("iniconfig", PYPI_URL)


def test_another_index_counts_only_through_its_own_digest(tmp_path: Path) -> None:
    """A local version is spelled as is (`2.13.0+cpu-…`) in the pointer's name, `%2B` in the URL."""
    stem = "2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64"
    pointer(tmp_path, "index/c4ce114a73359c17", "torch", stem, TORCH_URL)
    lookup = uvcache.Lookup(_cache(tmp_path), [INDEX, uvcache.PYPI])
    assert not lookup.cached("torch", TORCH_URL)  # which index that digest is: not known
    page(tmp_path, "c4ce114a73359c17", "torch", "https://download.example.org/whl/cu126")
    assert not uvcache.Lookup(_cache(tmp_path), [INDEX, uvcache.PYPI]).cached("torch", TORCH_URL)  # another index's
    page(tmp_path, "c4ce114a73359c17", "torch", INDEX)
    assert uvcache.Lookup(_cache(tmp_path), [INDEX, uvcache.PYPI]).cached("torch", TORCH_URL)
    assert uvcache.Lookup(_cache(tmp_path), [INDEX + "/"]).cached("torch", TORCH_URL)  # uv drops the slash too
    assert not uvcache.Lookup(_cache(tmp_path), [uvcache.PYPI]).cached("torch", TORCH_URL)  # not in play


def test_a_long_tag_set_hashed_into_the_name_is_matched_by_content(tmp_path: Path) -> None:
    url = PYPI_URL.replace("iniconfig-2.0.0-py3-none-any", "pkg-3.5.3-cp311-cp311-" + ".".join(["manylinux_2_17_x86_64"] * 6))
    pointer(tmp_path, "pypi", "pkg", "3.5.3-177a4815c97d3c91", url)
    assert uvcache.Lookup(_cache(tmp_path), [uvcache.PYPI]).cached("pkg", url)


def test_a_missing_cache_holds_nothing(tmp_path: Path) -> None:
    lookup = uvcache.Lookup(_cache(tmp_path / "nowhere"), [uvcache.PYPI, INDEX])
    assert not lookup.cached("iniconfig", PYPI_URL)
    assert not lookup.cached("torch", TORCH_URL)
    assert not lookup.cached("pkg", "https://files.pythonhosted.org/packages/pkg-1.0.tar.gz")  # an sdist


def test_the_indexes_a_uv_command_reads() -> None:
    assert uvcache.indexes([]) == [uvcache.PYPI]
    assert uvcache.indexes(["--extra-index-url", INDEX, "--index-strategy", "unsafe-best-match"]) == [INDEX, uvcache.PYPI]
    assert uvcache.indexes(["--index-url", "https://mirror/simple"]) == ["https://mirror/simple"]
    assert uvcache.indexes(["--no-index", "--find-links", "/w"]) == []


def test_the_bucket_names_are_the_running_uvs(tmp_path: Path) -> None:
    uv = find_uv()
    assert uv is not None
    found = uvcache._bucket_names(uv)
    assert found is not None and [n.split("-v")[0] for n in found] == ["wheels", "simple", "archive"], found
    two = tmp_path / "uv"
    two.write_bytes(b"\x00wheels-v8sdists-v11wheels-v9simple-v28archive-v0\x00")
    assert uvcache._bucket_names(str(two)) is None  # not exactly one: nothing counts


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("FWSETUP_HOME", str(tmp_path / "home"))
    return tmp_path


def _locate(env: dict[str, str]) -> Optional[uvcache.Cache]:
    uv = find_uv()
    assert uv is not None
    return uvcache.locate(uv, runner.installer_env(env))


def test_uv_is_asked_once_then_its_answer_is_remembered(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _locate({"UV_CACHE_DIR": str(home / "uv")})
    assert found is not None and found.root == home / "uv" and found.wheels.startswith("wheels-v")

    def no_process(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process was started")

    monkeypatch.setattr(runner, "step", no_process)
    assert _locate({"UV_CACHE_DIR": str(home / "uv")}) == found
    with pytest.raises(AssertionError, match="a process"):
        _locate({"UV_CACHE_DIR": str(home / "elsewhere")})  # another answer: asked again


@pytest.mark.parametrize("var", ["UV_NO_CACHE", "UV_REFRESH", "UV_REFRESH_PACKAGE"])
def test_nothing_counts_when_the_install_will_not_use_the_cache(home: Path, var: str) -> None:
    assert _locate({"UV_CACHE_DIR": str(home / "uv"), var: "1"}) is None
    if var != "UV_REFRESH_PACKAGE":
        assert _locate({"UV_CACHE_DIR": str(home / "uv"), var: "false"}) is not None  # uv's "boolish" no


def test_a_config_file_that_turns_the_cache_off_is_honoured(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`no-cache = true` in a uv.toml: uv names a temporary folder, gone when it exits."""
    project = home / "project"
    project.mkdir()
    (project / "uv.toml").write_text("no-cache = true\n")
    monkeypatch.chdir(project)
    found = _locate({})
    assert found is not None and not found.root.exists()
    assert found.default_trusted
    (project / "uv.toml").write_text('extra-index-url = ["https://mirror/simple"]\n')
    found = _locate({"UV_CACHE_DIR": str(home / "uv")})
    assert found is not None and not found.default_trusted  # the config names indexes of its own
    (project / "uv.toml").write_text("")
    found = _locate({"UV_CACHE_DIR": str(home / "uv"), "UV_INDEX_URL": "https://mirror/simple"})
    assert found is not None and not found.default_trusted  # so does the variable
