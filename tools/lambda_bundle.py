"""Build the AWS Lambda deployment zip: the ``skill`` package and its runtime dependencies.

    python tools/lambda_bundle.py --output build/rls-coach-lambda.zip [--skill-id amzn1.ask.skill…]
    python tools/lambda_bundle.py --lock requirements/lambda.lock    (what `make lock` runs)

What goes in is decided in one place each:

- the dependencies: the project's own, minus those pyproject.toml declares webhook-only (Flask,
  waitress, cryptography), plus the ``lambda`` extra, resolved by ``make lock`` into
  requirements/lambda.lock: exact versions (the same as requirements/dev.lock, which the tests run
  on) with the hash of every file, so the zip holds what was tested and nothing PyPI swapped since;
- the Python version and CPU architecture: ``provider.runtime`` and ``provider.architecture`` in
  serverless.yml, for which the lock is resolved and the compiled wheels (PyYAML,
  charset-normalizer) are fetched;
- what the Lambda runtime already provides (boto3 and its own dependencies): left out, because a
  second copy would shadow the runtime's and add tens of megabytes.

pip fetches wheels built for the Lambda's platform (never compiling anything: a wheel built here
would have no hash in the lock), so this works on any machine with access to PyPI and no AWS
account. The zip is reproducible (sorted entries, fixed timestamps), so an unchanged skill gives a
byte-identical zip and Serverless skips the upload.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "skill"
LOCK = ROOT / "requirements" / "lambda.lock"
# The lock of the whole development environment: the Lambda's lock takes its versions from it.
DEV_LOCK = ROOT / "requirements" / "dev.lock"
# The Lambda Python runtime ships boto3 with these; everything else must be bundled.
PROVIDED_BY_RUNTIME = ("boto3", "botocore", "s3transfer", "jmespath")
# Console scripts and byte code for another interpreter are of no use in the function.
SKIPPED_PARTS = frozenset({"__pycache__", "bin"})
SKIPPED_SUFFIXES = frozenset({".pyc", ".pyo"})
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
# The same platforms as uv names them when resolving the lock.
UV_PLATFORMS = {"arm64": "aarch64-manylinux2014", "x86_64": "x86_64-manylinux2014"}
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: no build time in the bytes


class BundleError(Exception):
    """The bundle cannot be built; the message says why and what to change."""


def lambda_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The project's dependencies without the webhook-only ones, plus the ``lambda`` extra.

    Leaving out only what is declared webhook-only (rather than listing what to keep) means a
    dependency someone adds for the skill reaches the Lambda without anyone remembering to."""
    config = tomllib.loads(pyproject.read_text())
    project = config["project"]
    bundle = config.get("tool", {}).get("rls-coach", {}).get("lambda-bundle", {})
    webhook_only = {_name(requirement) for requirement in bundle.get("webhook-only", [])}
    extra = project.get("optional-dependencies", {}).get("lambda")
    if extra is None:
        raise BundleError(f"{pyproject.name}: no 'lambda' extra lists the Lambda-only dependencies")
    kept = [r for r in project.get("dependencies", []) if _name(r) not in webhook_only]
    return kept + list(extra)


def _name(requirement: str) -> str:
    """The normalised distribution name at the start of a requirement string (PEP 503)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if not match:
        raise BundleError(f"pyproject.toml: cannot read the requirement '{requirement}'")
    return re.sub(r"[-_.]+", "-", match[1]).lower()


def lambda_target(config: Path = ROOT / "serverless.yml") -> tuple[str, str]:
    """(python version, pip platform) of the function, from serverless.yml's provider."""
    runtime, architecture = _runtime_and_architecture(config)
    return runtime, PLATFORMS[architecture]


def _runtime_and_architecture(config: Path = ROOT / "serverless.yml") -> tuple[str, str]:
    provider = (yaml.safe_load(config.read_text()) or {}).get("provider") or {}
    runtime = str(provider.get("runtime", ""))
    architecture = str(provider.get("architecture", "x86_64"))
    if not runtime.startswith("python3."):
        raise BundleError(f"{config.name}: provider.runtime '{runtime}' is not a Python runtime")
    if architecture not in PLATFORMS:
        raise BundleError(
            f"{config.name}: provider.architecture '{architecture}' is not arm64 or x86_64"
        )
    return runtime.removeprefix("python"), architecture


def check_skill_id(skill_id: str) -> None:
    from skill.settings import SKILL_ID_PATTERN  # noqa: PLC0415 - the one definition of the form

    if not skill_id:
        raise BundleError(
            "no skill id: give the id of the Alexa skill this function will answer, e.g. "
            "make package SKILL_ID=amzn1.ask.skill.xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx "
            "(developer console → your skill → Build → Endpoint)"
        )
    if not SKILL_ID_PATTERN.match(skill_id):
        raise BundleError(
            f"'{skill_id}' is not an Alexa skill id; it looks like "
            "amzn1.ask.skill.xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
        )


def install_dependencies(target: Path, lock: Path, python: str, platform: str) -> None:
    """Install the hashed pins of ``lock`` into ``target`` as wheels for the function's Python and
    platform; pip refuses any file whose hash the lock does not list."""
    if not lock.is_file():
        raise BundleError(f"{_shown(lock)} is missing: run make lock")
    command = [
        sys.executable,
        "-m",
        "pip",
        "--quiet",
        "--quiet",
        "--disable-pip-version-check",
        "install",
        "--require-hashes",
        "--no-compile",
        "--target",
        str(target),
        "--platform",
        platform,
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--requirement",
        str(lock),
    ]
    if subprocess.run(command, check=False).returncode != 0:
        raise BundleError(
            f"pip could not install {_shown(lock)} for Python {python} on {platform}: a "
            "dependency may have no wheel for that platform, or the lock is out of date "
            "(run make lock)"
        )


def write_lock(lock: Path, dev_lock: Path = DEV_LOCK) -> None:
    """Resolve :func:`lambda_requirements` for the function's Python and CPU into ``lock``, with
    hashes, keeping every version ``dev_lock`` pins (so the zip holds what the tests ran on)."""
    runtime, architecture = _runtime_and_architecture()
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise BundleError("uv is not installed: make lock installs it with the test extra")
    command = [
        uv,
        "pip",
        "compile",
        "--quiet",
        "--generate-hashes",
        "--python-version",
        runtime,
        "--python-platform",
        UV_PLATFORMS[architecture],
        "--constraint",
        os.path.relpath(dev_lock, ROOT),
        "--output-file",
        os.path.relpath(lock, ROOT),
        "-",
    ]
    requirements = "".join(f"{requirement}\n" for requirement in lambda_requirements())
    env = {**os.environ, "UV_CUSTOM_COMPILE_COMMAND": "make lock"}
    result = subprocess.run(command, input=requirements, text=True, cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        raise BundleError(f"uv could not resolve {_shown(lock)}")


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def remove_runtime_provided(target: Path) -> None:
    """Delete every file of the distributions the Lambda runtime already has."""
    for distribution in importlib.metadata.distributions(path=[str(target)]):
        if distribution.metadata["Name"].lower() not in PROVIDED_BY_RUNTIME:
            continue
        for file in distribution.files or ():
            path = Path(str(distribution.locate_file(file))).resolve()
            if path.is_relative_to(target.resolve()) and path.is_file():
                path.unlink()
    for directory in sorted(target.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()


def copy_package(target: Path) -> None:
    for source in (ROOT / PACKAGE).rglob("*"):
        relative = source.relative_to(ROOT)
        if source.is_file() and not _skipped(relative):
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def write_zip(source: Path, output: Path) -> int:
    output.parent.mkdir(parents=True, exist_ok=True)
    files = sorted(_bundle_files(source))
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=ZIP_TIMESTAMP)
            info.external_attr = 0o644 << 16  # readable by the function's user, whoever builds
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, path.read_bytes())
    return len(files)


def _bundle_files(source: Path) -> Iterator[Path]:
    for path in source.rglob("*"):
        if path.is_file() and not _skipped(path.relative_to(source)):
            yield path


def _skipped(relative: Path) -> bool:
    return bool(SKIPPED_PARTS.intersection(relative.parts)) or relative.suffix in SKIPPED_SUFFIXES


def build(output: Path, work: Path) -> None:
    python, platform = lambda_target()
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    install_dependencies(work, LOCK, python, platform)
    remove_runtime_provided(work)
    copy_package(work)
    count = write_zip(work, output)
    size = output.stat().st_size / 1_000_000
    print(f"{output}: {count} files, {size:.1f} MB, for Python {python} on {platform}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--output", help="where to write the zip")
    action.add_argument("--lock", help="write the hashed lock of the zip's dependencies here")
    parser.add_argument("--work", help="staging directory (default: beside the zip)")
    parser.add_argument("--skill-id", help="check this skill id's form before building")
    args = parser.parse_args(argv)
    try:
        if args.lock:
            write_lock(Path(args.lock).resolve())
            return 0
        output = Path(args.output)
        work = Path(args.work) if args.work else output.with_suffix("")
        if args.skill_id is not None:
            check_skill_id(args.skill_id.strip())
        build(output, work)
    except BundleError as exc:
        print(f"lambda bundle: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
