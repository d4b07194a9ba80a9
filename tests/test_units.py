"""Small pure pieces: pip configuration, redaction, installer arguments, wheel tags, failure summaries."""

from __future__ import annotations

from pathlib import Path

from machines import base_report

from fwsetup import pipconfig, records
from fwsetup.install import backends, sources
from fwsetup.plan.select import wheel_fits
from fwsetup.redact import redact
from fwsetup.report import Libc, OSInfo


def test_pipconfig_reads_files_in_pip_order_and_env_overrides(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "pip").mkdir(parents=True)
    (xdg / "pip" / "pip.conf").write_text(
        "[global]\nindex-url = https://global.example/simple\nfind-links = /g\n"
    )
    home = tmp_path / "home"
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text(
        "[global]\nextra-index-url = https://a.example/simple\n  https://b.example/simple\n[install]\nfind-links = /user\n"
    )
    env = {"XDG_CONFIG_DIRS": str(xdg), "HOME": str(home), "PIP_CERT": "/ca.pem", "PIP_CONSTRAINT": "/c.txt"}
    s = pipconfig.read(env)
    assert s.index_url == "https://global.example/simple"
    assert s.extra_index_urls == ("https://a.example/simple", "https://b.example/simple")
    assert s.find_links == ("/user",)  # [install] overrides [global], the user file the global one
    assert s.cert == "/ca.pem" and s.constraints == ("/c.txt",)
    assert pipconfig.read({**env, "PIP_CONFIG_FILE": "/dev/null", "PIP_CERT": ""}).index_url is None


def test_pipconfig_no_index_and_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.conf"
    bad.write_bytes(b"[global\n\xff")
    s = pipconfig.read(
        {
            "HOME": str(tmp_path),
            "XDG_CONFIG_DIRS": str(tmp_path),
            "PIP_CONFIG_FILE": str(bad),
            "PIP_NO_INDEX": "1",
        }
    )
    assert s.no_index


def test_uv_gets_the_pip_configuration_translated(tmp_path: Path) -> None:
    settings = pipconfig.PipSettings(
        index_url="https://user:secret@private.example/simple",
        extra_index_urls=("file:///opt/pypi/simple",),
        find_links=("/opt/wheels",),
        constraints=("/etc/c.txt",),
        trusted_hosts=("private.example",),
        cert="/ca.pem",
        proxy="http://proxy:3128",
    )
    src = backends.Sources(
        extra_index_urls=("https://download.pytorch.org/whl/cu126",), settings=settings, offline=True
    )
    args = sources.for_uv(src).args
    assert args[:2] == ["--index-url", "https://user:secret@private.example/simple"]
    assert args.count("--extra-index-url") == 2 and args.index(
        "https://download.pytorch.org/whl/cu126"
    ) < args.index("file:///opt/pypi/simple")
    assert args[args.index("--find-links") : args.index("--find-links") + 2] == [
        "--find-links",
        "/opt/wheels",
    ]
    assert "--constraint" in args and "--allow-insecure-host" in args and "--offline" in args
    env = sources.for_uv(src).env
    assert env["SSL_CERT_FILE"] == "/ca.pem" and env["HTTPS_PROXY"] == "http://proxy:3128"
    override = sources.for_uv(backends.Sources(index_url="https://mirror.example/simple", settings=settings)).args
    assert override[:2] == ["--index-url", "https://mirror.example/simple"]


def test_redaction() -> None:
    assert redact("https://user:pa55@host/simple") == "https://user:****@host/simple"
    assert (
        redact("pip from https://TOKEN123@host/x and http://a:b@c")
        == "pip from https://****@host/x and http://a:****@c"
    )
    assert redact("https://host/simple?token=abc&x=1") == "https://host/simple?token=****&x=1"
    assert redact("no urls here: user@example.com") == "no urls here: user@example.com"
    assert redact("machine h login u password s3cr3t") == "machine h login u password ****"
    assert redact("password\thunter2 passwd x") == "password\t**** passwd ****"
    # a path ending in passwd is not a netrc key: the message after it stays readable
    text = "cannot read the packages of /etc/passwd (--python): cannot run /etc/passwd: PermissionError"
    assert redact(text) == text
    assert redact(r"C:\x\passwd for y ~/.passwd z my-passwd w") == r"C:\x\passwd for y ~/.passwd z my-passwd w"


def test_failure_summary_picks_the_error_lines_and_redacts() -> None:
    out = "\n".join(
        ["Collecting six==999", "Looking in indexes: https://u:p@h/simple"]
        + ["noise"] * 50
        + [
            "ERROR: Could not find a version that satisfies the requirement six==999",
            "ERROR: No matching distribution found for six==999",
        ]
    )
    summary = backends.summarise(out)
    assert "No matching distribution" in summary and "noise" not in summary and ":p@" not in summary


def test_wheel_tags() -> None:
    linux = base_report(("debian", "12"))
    assert wheel_fits(["cp311-cp311-manylinux_2_28_x86_64"], "3.11", linux)
    assert not wheel_fits(["cp311-cp311-manylinux_2_39_x86_64"], "3.11", linux)  # glibc 2.35 here
    assert wheel_fits(["cp36-cp36m-manylinux1_x86_64"], "3.6", linux)  # pre-3.8 "m" ABI tag
    assert wheel_fits(["py3-none-any"], "3.9", linux)
    assert not wheel_fits(["cp311-cp311-manylinux_2_28_aarch64"], "3.11", linux)
    assert not wheel_fits(["cp312-cp312-manylinux_2_28_x86_64"], "3.11", linux)
    assert wheel_fits(["cp310-abi3-manylinux2014_x86_64"], "3.10", linux)

    # abi3: a wheel built for CPython 3.8's stable ABI installs on every later CPython
    assert wheel_fits(["cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"], "3.11", linux)
    assert not wheel_fits(["cp312-abi3-manylinux_2_17_x86_64"], "3.11", linux)
    # legacy manylinux names stand for a glibc (PEP 600): manylinux2014 = 2.17
    assert wheel_fits(["cp311-cp311-manylinux2014_x86_64"], "3.11", linux)
    old_glibc = records.replace(linux, os=records.replace(linux.os, libc=Libc("glibc", "2.12")))
    assert not wheel_fits(["cp311-cp311-manylinux2014_x86_64"], "3.11", old_glibc)
    assert wheel_fits(["cp311-cp311-manylinux2010_x86_64"], "3.11", old_glibc)


def test_wheel_tags_musl_macos_windows() -> None:
    alpine = records.replace(
        base_report(), os=OSInfo("Linux", "alpine", "3.20", arch="x86_64", libc=Libc("musl", "1.2.5"))
    )
    assert wheel_fits(["cp311-cp311-musllinux_1_2_x86_64"], "3.11", alpine)
    assert not wheel_fits(["cp311-cp311-manylinux_2_28_x86_64"], "3.11", alpine)
    assert not wheel_fits(["cp311-cp311-musllinux_1_2_x86_64"], "3.11", base_report())
    mac = records.replace(base_report(), os=OSInfo("Darwin", "macos", "14.5", arch="arm64"))
    assert wheel_fits(["cp311-cp311-macosx_11_0_arm64"], "3.11", mac)
    assert wheel_fits(["cp311-cp311-macosx_10_9_universal2"], "3.11", mac)
    assert not wheel_fits(["cp311-cp311-macosx_10_9_x86_64"], "3.11", mac)
    assert not wheel_fits(["cp311-cp311-macosx_15_0_arm64"], "3.11", mac)  # newer than macOS 14
    intel_mac = records.replace(base_report(), os=OSInfo("Darwin", "macos", "13.6", arch="x86_64"))
    assert wheel_fits(["cp310-cp310-macosx_10_9_x86_64"], "3.10", intel_mac)
    windows = records.replace(base_report(), os=OSInfo("Windows", arch="AMD64"))
    assert wheel_fits(["cp311-cp311-win_amd64"], "3.11", windows)
    assert not wheel_fits(["cp311-cp311-win_arm64", "cp311-cp311-manylinux_2_28_x86_64"], "3.11", windows)


def test_versions_never_raise_on_hostile_numbers() -> None:
    """A --system report is someone else's data: `"l4t": "1" * 100000` was an internal error (int()
    refuses over 4,300 digits), and a non-ASCII digit ("٣.10") made parse() raise InvalidVersion."""
    from fwsetup import versions

    for text in ("1" * 100000, "1." + "2" * 5000, "1" * 5000 + " (x)", "v" + "9" * 5000, "\u0663.10", "36.4.3.\u0663"):
        versions.release(text)
        versions.key(text)
    assert versions.parse("1" * 5000) is None and versions.release("1" * 5000) == ()
    assert versions.parse("\u0663.10") is None and versions.release("\u0663.10") == ()
    assert versions.release("12.8 (Update 1)") == (12, 8) and str(versions.parse("580.95.05")) == "580.95.5"
    assert versions.release("3.11.7", 2) == (3, 11) and str(versions.parse("v12.4 beta")) == "12.4"
