"""pip's configuration read by pip's rules: real files in temporary directories, and real pip
(its own option parser, run as a subprocess) as the judge of what those rules are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fwsetup import pipconfig, pipfiles

# What pip's `install` command makes of its configuration, printed as JSON by pip itself.
PIP_ORACLE = """
import json
from pip._internal.commands import create_command
options, _ = create_command("install").parse_args([])
print(json.dumps({
    "index_url": options.index_url, "extra_index_urls": options.extra_index_urls,
    "find_links": options.find_links, "trusted_hosts": options.trusted_hosts,
    "cert": options.cert, "client_cert": options.client_cert, "proxy": options.proxy,
    "no_index": options.no_index, "timeout": options.timeout, "constraints": options.constraints,
}))
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment whose pip configuration comes only from files under tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and not k.startswith("XDG_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_DIRS=str(tmp_path / "etc-xdg"))
    env.update(extra)
    return env


def pip_says(env: dict[str, str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PIP_ORACLE], env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return dict(json.loads(out.stdout))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def agrees_with_pip(env: dict[str, str]) -> pipconfig.PipSettings:
    ours = pipconfig.read(env)
    pip = pip_says(env)
    assert ours.index_url == (pip["index_url"] if pip["index_url"] != "https://pypi.org/simple" else None)
    assert list(ours.extra_index_urls) == pip["extra_index_urls"]
    assert list(ours.find_links) == pip["find_links"]
    assert list(ours.trusted_hosts) == pip["trusted_hosts"]
    assert list(ours.constraints) == pip["constraints"]
    assert (ours.cert, ours.client_cert, ours.proxy or "") == (pip["cert"], pip["client_cert"], pip["proxy"])
    assert ours.no_index == pip["no_index"]
    assert float(ours.timeout or 15) == pip["timeout"]
    return ours


def test_command_section_of_a_global_file_beats_global_section_of_the_user_file(tmp_path: Path) -> None:
    write(
        tmp_path / "etc-xdg" / "pip" / "pip.conf",
        "[global]\nindex-url = https://global.example/simple\n[install]\nfind-links = /from-global-install\n",
    )
    write(
        tmp_path / "home" / ".config" / "pip" / "pip.conf",
        "[global]\nfind-links = /from-user-global\nindex-url = https://user.example/simple\n"
        "trusted-host = user.example\n[download]\nfind-links = /only-for-download\n",
    )
    s = agrees_with_pip(clean_env(tmp_path))
    assert s.find_links == ("/from-global-install",)  # per section, not per file
    assert s.index_url == "https://user.example/simple"  # same section: the later file wins
    assert pipconfig.read(clean_env(tmp_path), command="download").find_links == ("/only-for-download",)


def test_pip_config_file_hides_the_user_files_and_env_vars_beat_all(tmp_path: Path) -> None:
    write(tmp_path / "home" / ".pip" / "pip.conf", "[global]\nproxy = http://user-proxy:3128\n")
    named = write(tmp_path / "named.conf", "[global]\ncert = /named-ca.pem\ntimeout = 7\n")
    env = clean_env(tmp_path, PIP_CONFIG_FILE=str(named))
    s = agrees_with_pip(env)
    assert s.proxy is None and s.cert == "/named-ca.pem" and s.timeout == "7"
    assert str(named) in s.files and not any(".pip" in f for f in s.files)
    # A PIP_CONFIG_FILE that does not exist hides nothing.
    s = agrees_with_pip(clean_env(tmp_path, PIP_CONFIG_FILE=str(tmp_path / "missing.conf")))
    assert s.proxy == "http://user-proxy:3128"
    # PIP_DEFAULT_TIMEOUT is pip's alias of --timeout; variables beat every file.
    s = agrees_with_pip({**env, "PIP_DEFAULT_TIMEOUT": "42", "PIP_NO_INDEX": "yes"})
    assert s.timeout == "42" and s.no_index


def test_devnull_reads_no_file_and_an_empty_value_unsets(tmp_path: Path) -> None:
    write(
        tmp_path / "etc-xdg" / "pip" / "pip.conf",
        "[global]\nindex-url = https://global.example/simple\n[install]\nfind-links = /g\n",
    )
    write(
        tmp_path / "home" / ".config" / "pip" / "pip.conf", "[global]\nindex-url =\n[install]\nfind-links =\n"
    )
    s = agrees_with_pip(clean_env(tmp_path))
    assert s.index_url is None and s.find_links == ()  # pip: the later empty value hides the earlier one
    s = agrees_with_pip(clean_env(tmp_path, PIP_CONFIG_FILE=os.devnull, PIP_CLIENT_CERT="/me.pem"))
    assert s.index_url is None and s.files == () and s.client_cert == "/me.pem"


def test_a_bad_file_is_skipped_and_recorded(tmp_path: Path) -> None:
    good = write(
        tmp_path / "etc-xdg" / "pip" / "pip.conf", "[global]\nextra-index-url = https://ok.example/simple\n"
    )
    bad = tmp_path / "home" / ".config" / "pip" / "pip.conf"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"[global]\nindex-url = https://bad.example/simple\n[broken\n\xff")
    s = pipconfig.read(clean_env(tmp_path))
    assert [f for f, _why in s.skipped] == [str(bad)]
    assert s.index_url is None  # nothing of the bad file was used, not even its readable part
    assert s.extra_index_urls == ("https://ok.example/simple",)
    assert str(good) in s.files and str(bad) not in s.files


def test_site_file_of_the_running_interpreter(tmp_path: Path) -> None:
    write(tmp_path / "prefix" / "pip.conf", "[install]\nconstraint = /site-c.txt\n")
    s = pipconfig.read(clean_env(tmp_path), prefix=str(tmp_path / "prefix"))
    assert s.constraints == ("/site-c.txt",)


@pytest.mark.parametrize(
    ("platform", "global_rel", "user_rel", "env_extra"),
    [
        ("darwin", None, "home/.config/pip/pip.conf", {}),
        ("darwin", None, "home/Library/Application Support/pip/pip.conf", {}),
        ("win32", "programdata/pip/pip.ini", "appdata/pip/pip.ini", {}),
        ("win32", None, "home/pip/pip.ini", {}),
        ("linux", "etc-xdg/pip/pip.conf", "xdg-home/pip/pip.conf", {"XDG_CONFIG_HOME": "xdg-home"}),
    ],
)
def test_per_platform_locations(
    tmp_path: Path, platform: str, global_rel: str, user_rel: str, env_extra: dict[str, str]
) -> None:
    env = clean_env(
        tmp_path,
        USERPROFILE=str(tmp_path / "home"),
        APPDATA=str(tmp_path / "appdata"),
        PROGRAMDATA=str(tmp_path / "programdata"),
        **{k: str(tmp_path / v) for k, v in env_extra.items()},
    )
    if global_rel:
        write(tmp_path / global_rel, "[global]\nindex-url = https://global.example/simple\n")
    write(tmp_path / user_rel, "[global]\nfind-links = /user-wheels\n")
    s = pipconfig.read(env, platform=platform, prefix=str(tmp_path / "no-prefix"))
    assert s.find_links == ("/user-wheels",)
    assert s.index_url == ("https://global.example/simple" if global_rel else None)
    files = pipfiles.config_files(env, platform, str(tmp_path / "no-prefix"))
    assert Path(files[-1]).name == ("pip.ini" if platform == "win32" else "pip.conf")
    if platform == "darwin":
        assert "/Library/Application Support/pip/pip.conf" in files


@pytest.mark.parametrize(
    ("conf", "variable", "where", "says"),
    [
        ("[install]\nconstraint = {base}/missing.txt\n", None, "pip.conf [install]", "missing.txt"),
        ("[global]\nconstraint = {base}/with space/c.txt\n", None, "pip.conf [global]", "a path with a space"),
        ("", "{base}/gone.txt", "the PIP_CONSTRAINT variable", "gone.txt"),
    ],
)
def test_a_missing_constraint_file_is_named_with_where_it_was_set_before_any_install(
    tmp_path: Path, conf: str, variable: str, where: str, says: str
) -> None:
    """A constraint file pip's configuration names that is not there stops pip and uv ("File not
    found") after fwsetup made the env: refused first (exit 2) naming the file and where it was
    set, and doctor says so too."""
    from helpers import cli, json_out, tiny_env

    (tmp_path / "with space").mkdir()
    (tmp_path / "with space" / "c.txt").write_text("")  # there, but pip reads two names
    (tmp_path / "pip.conf").write_text(conf.format(base=tmp_path))
    extra = {"PIP_CONFIG_FILE": str(tmp_path / "pip.conf")}
    if variable:
        extra["PIP_CONSTRAINT"] = variable.format(base=tmp_path)
    env = tiny_env(tmp_path / "home", **extra)
    out = cli("install", "tiny", "--cpu", "--env", str(tmp_path / "env"), "--json", env=env)
    error = json_out(out)["error"]
    assert out.returncode == 2 and error["code"] == "bad-pip-config", out.stdout + out.stderr
    assert where in error["message"] and says in error["message"] and "pip config list" in error["fix"], error
    assert ("unset PIP_CONSTRAINT" if variable else f"remove the constraint line in {tmp_path}") in error["fix"]
    assert not (tmp_path / "env").exists()
    locked = cli("lock", "tiny", "--cpu", "-o", str(tmp_path / "fwsetup.lock"), env=env)
    assert locked.returncode == 2 and says in locked.stderr
    from fwsetup.probe.diagnose import pip_constraint_missing

    (finding,) = pip_constraint_missing({**os.environ, **env})
    assert finding.code == "pip-constraint-missing" and where in finding.message
    (tmp_path / "pip.conf").write_text("[install]\nconstraint = file://" + str(tmp_path / "with%20space" / "c.txt") + "\n")
    fine = {**os.environ, "PIP_CONFIG_FILE": str(tmp_path / "pip.conf")}
    fine.pop("PIP_CONSTRAINT", None)
    assert pipconfig.constraint_problem(pipconfig.read(fine)) is None and not pip_constraint_missing(fine)
