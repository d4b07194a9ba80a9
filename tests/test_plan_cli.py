"""`list` and `install --dry-run` through the CLI (in-process), for every fixture machine × framework."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PLAN_KEYS, cli, json_out
from machines import machines, write_all

from fwsetup.plan import recipes

EXPECTED_FRAMEWORKS = {
    "pytorch",
    "tensorflow",
    "jax",
    "keras",
    "theano",
    "lasagne",
    "keras2",
    "caffe",
    "cntk",
    "mxnet",
    "chainer",
    "brainstorm",
    "torch7",
    "kaldi",
    "deeplearning4j",
    "bidmach",
    "matconvnet",
    "maxdnn",
    "leaf",
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("machines"))


def test_list_shows_every_framework() -> None:
    out = cli("list", "--json")
    assert out.returncode == 0, out.stderr
    names = {row["name"] for row in json_out(out)["frameworks"]}
    assert names == EXPECTED_FRAMEWORKS
    text = cli("list")
    assert all(name in text.stdout for name in EXPECTED_FRAMEWORKS)


@pytest.mark.parametrize("machine", sorted(machines()))
def test_dry_run_plan_or_reasoned_refusal_for_every_framework(reports: dict[str, Path], machine: str) -> None:
    for framework in sorted(recipes.load_all()):
        for accel in ([], ["--gpu"], ["--cpu"]):
            result = cli("install", framework, *accel, "--dry-run", "--json", "--system", str(reports[machine]))
            data = json.loads(result.stdout)
            if result.returncode == 0:
                assert set(data) == PLAN_KEYS, (machine, framework)
                assert data["accelerator"] in ("cuda", "rocm", "mps", "cpu")
                assert data["reasons"]
                if accel == ["--cpu"]:
                    assert data["accelerator"] == "cpu"
                    assert not any("cu1" in p or "[cuda" in p or "and-cuda" in p for p in data["packages"]), (
                        data["packages"]
                    )
            else:
                assert result.returncode == 3, (machine, framework, accel, result.stdout)
                assert set(data["error"]) == {"code", "message", "fix"} and data["error"]["message"]


@pytest.mark.parametrize(
    ("name", "canonical"),
    [("torch", "pytorch"), ("PyTorch", "pytorch"), ("TF", "tensorflow"), ("dl4j", "deeplearning4j")],
)
def test_aliases_and_case(reports: dict[str, Path], name: str, canonical: str) -> None:
    """An alias plans exactly what the canonical name plans (a refusal would be a refusal of both)."""
    machine = ["--dry-run", "--json", "--system", str(reports["rtx4090-580"])]
    by_alias, by_name = cli("install", name, *machine), cli("install", canonical, *machine)
    assert by_alias.returncode == by_name.returncode == 0, (by_alias.stdout, by_name.stdout)
    assert json_out(by_alias) == json_out(by_name)
    assert json_out(by_alias)["framework"] == canonical


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["install", "nosuch", "--dry-run"], 2, "unknown framework"),
        (["install", "pytorch", "--gpu", "--cpu", "--dry-run"], 2, "exclude each other"),
        (["install", "pytorch", "--gpus", "x", "--dry-run"], 2, "--gpus"),
        (["install", "pytorch", "--installer", "conda"], 2, "--installer"),
    ],
)
def test_usage_errors_are_one_clear_message(args: list[str], code: int, needle: str) -> None:
    out = cli(*args)
    assert out.returncode == code, out.stderr
    assert needle in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "content", ["{", "[]", '{"schema_version": 7}', "\x00\xff garbage", '{"schema_version": 1}']
)
def test_bad_system_report_is_a_usage_error(tmp_path: Path, content: str) -> None:
    bad = tmp_path / "report.json"
    bad.write_bytes(content.encode("latin-1"))
    out = cli("install", "pytorch", "--dry-run", "--json", "--system", str(bad))
    assert out.returncode == 2
    assert json_out(out)["error"]["code"] == "bad-report"


def test_bad_recipe_names_file_key_and_problem(tmp_path: Path) -> None:
    (tmp_path / "smoke").mkdir()
    (tmp_path / "broken.toml").write_text(
        'name = "broken"\ndisplay_name = "B"\nera = "modern"\nstatus = "supported"\nsummary = "s"\nsource = "s"\n'
        '[[variant]]\nname = "cpu"\naccelerator = "tpu"\n'
    )
    out = cli("install", "broken", "--dry-run", env={"FWSETUP_RECIPES_DIR": str(tmp_path)})
    assert out.returncode == 1
    assert "broken.toml" in out.stderr and "variant[0].accelerator" in out.stderr and "'tpu'" in out.stderr
    assert "Traceback" not in out.stderr


def test_recipe_with_a_typo_key(tmp_path: Path) -> None:
    (tmp_path / "typo.toml").write_text(
        'name = "typo"\ndisplay_name = "T"\nera = "modern"\nstatus = "supported"\nsummary = "s"\nsource = "s"\n'
        '[[variant]]\nname = "cpu"\naccelerator = "cpu"\npackges = ["x"]\n'
    )
    out = cli("list", env={"FWSETUP_RECIPES_DIR": str(tmp_path)})
    assert out.returncode == 1 and "packges" in out.stderr and "unknown key" in out.stderr


def test_every_shipped_recipe_validates() -> None:
    loaded = recipes.load_all()
    assert set(loaded) == EXPECTED_FRAMEWORKS
    for recipe in loaded.values():
        assert recipe.source and recipe.summary
        if recipe.status != "supported":
            assert recipe.successor, recipe.name


def test_a_recipes_dir_that_is_not_there_is_a_usage_error(tmp_path: Path) -> None:
    """FWSETUP_RECIPES_DIR with a typo listed no framework (exit 0) and refused every name with
    "choose one of:  (see `fwsetup list`)"."""
    missing = {"FWSETUP_RECIPES_DIR": str(tmp_path / "nope")}
    listed = cli("list", env=missing)
    assert listed.returncode == 2 and "is not a directory" in listed.stderr
    planned = cli("install", "pytorch", "--dry-run", "--json", env=missing)
    assert planned.returncode == 2 and "FWSETUP_RECIPES_DIR" in planned.stdout and "choose one of:  " not in planned.stdout
