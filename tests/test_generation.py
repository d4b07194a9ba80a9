"""fwsetup.json as a record: every layout fwsetup has written still reads, a new one round-trips,
and a file that does not fit (or comes from a newer fwsetup) is one clear refusal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fakes import FIXTURES

from fwsetup.errors import UsageError
from fwsetup.install import envs, registry
from fwsetup.install.generation import SCHEMA_VERSION, GenerationMeta, HeldFramework

GENERATIONS = FIXTURES / "generation"
WITH_FRAMEWORKS = GENERATIONS / "fwsetup-de246c7-tiny-add-tinyb.json"  # main before schema_version
OLDEST = GENERATIONS / "fwsetup-63be830-tiny.json"  # before the frameworks list


def generation_with(tmp_path: Path, recorded: Path) -> Path:
    gen = tmp_path / "gen-1"
    gen.mkdir()
    shutil.copyfile(recorded, gen / envs.METADATA)
    return gen


def test_a_file_as_the_code_before_schema_version_wrote_it_still_reads(tmp_path: Path) -> None:
    meta = envs.read_metadata(generation_with(tmp_path, WITH_FRAMEWORKS))
    assert meta.schema_version == 0
    assert (meta.framework, meta.version, meta.python, meta.backend) == ("tinyb", "2.0.0", "3.11", "uv")
    assert meta.env["TINYB_FLAGS"].endswith("/gen-2/tinyb-cache")
    assert meta.packages["six"] == "1.16.0" and meta.packages["iniconfig"] == "2.0.0"
    held = meta.held()
    assert [(f.framework, f.version, f.smoke) for f in held] == [
        ("tinyb", "2.0.0", "fwsetup-smoke.py"),
        ("tiny", "1.16.0", "fwsetup-smoke-tiny.py"),
    ]
    assert held[0].sources is not None and held[0].sources["installer"] == "auto"
    assert held[1].plan is not None and held[1].plan["packages"] == ["six==1.16.0"]


def test_the_oldest_layout_holds_the_framework_its_top_level_keys_name(tmp_path: Path) -> None:
    meta = envs.read_metadata(generation_with(tmp_path, OLDEST))
    assert meta.schema_version == 0 and meta.frameworks == []
    (only,) = meta.held()
    assert (only.framework, only.version, only.variant, only.smoke) == (
        "tiny",
        "1.16.0",
        "cpu",
        "fwsetup-smoke.py",
    )
    assert only.plan == meta.plan and only.sources is None
    assert only.brief() == {"framework": "tiny", "version": "1.16.0", "variant": "cpu"}


def test_the_registry_lists_what_an_old_generation_holds(tmp_path: Path) -> None:
    store = tmp_path / ".tiny.fwsetup"
    store.mkdir()
    generation_with(store, OLDEST)
    (tmp_path / "tiny").symlink_to(store / "gen-1")
    (row,) = registry.generations(envs.EnvLayout(tmp_path / "tiny"))
    assert row["frameworks"] == [{"framework": "tiny", "version": "1.16.0", "variant": "cpu"}]
    assert row["python"] == "3.11" and row["packages"] == len(json.loads(OLDEST.read_text())["packages"])


def test_a_new_file_says_its_schema_version_and_reads_back_the_same(tmp_path: Path) -> None:
    old = envs.read_metadata(generation_with(tmp_path, WITH_FRAMEWORKS))
    gen = tmp_path / "gen-2"
    gen.mkdir()
    envs.write_metadata(
        gen, GenerationMeta(framework=old.framework, frameworks=old.frameworks, python="3.12")
    )
    written = json.loads((gen / envs.METADATA).read_text())
    assert next(iter(written)) == "schema_version" and written["schema_version"] == SCHEMA_VERSION == 1
    back = envs.read_metadata(gen)
    assert back.frameworks == old.frameworks and back.python == "3.12"
    assert isinstance(back.frameworks[0], HeldFramework)


def test_keys_a_newer_fwsetup_added_are_skipped(tmp_path: Path) -> None:
    data = json.loads(WITH_FRAMEWORKS.read_text())
    data["frameworks"][0]["signed_by"] = "someone"
    data["schema_version"] = SCHEMA_VERSION
    data["later"] = {"x": 1}
    meta = GenerationMeta.from_dict(data)
    assert meta.held()[0].framework == "tinyb"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"python": 3.11}, "fwsetup.json.python: expected str, got float"),
        ({"frameworks": ["tiny"]}, "fwsetup.json.frameworks[0]: expected an object"),
        ({"packages": ["six"]}, "fwsetup.json.packages: expected an object"),
        ({"schema_version": SCHEMA_VERSION + 1}, "newer than this fwsetup reads"),
    ],
)
def test_a_file_that_does_not_fit_is_one_clear_refusal(
    tmp_path: Path, change: dict[str, object], words: str
) -> None:
    gen = generation_with(tmp_path, WITH_FRAMEWORKS)
    data = json.loads((gen / envs.METADATA).read_text())
    data.update(change)
    (gen / envs.METADATA).write_text(json.dumps(data))
    with pytest.raises(UsageError, match="has no readable fwsetup metadata") as err:
        envs.read_metadata(gen)
    assert words in err.value.message


def test_not_an_object_is_refused(tmp_path: Path) -> None:
    gen = tmp_path / "gen-1"
    gen.mkdir()
    (gen / envs.METADATA).write_text("[]")
    with pytest.raises(UsageError, match="expected an object"):
        envs.read_metadata(gen)
