"""A checked catalog kept as a snapshot, so a fresh process skips reading and validating the YAML.

Reading the content means importing PyYAML and marshmallow and running every schema and
cross-check: ~70 ms of a Lambda cold start, for a result that only changes when the content or the
code that reads it changes. So the first process that loads the content in full writes the result
next to the package (``make package`` does it too, so the Lambda zip carries one), and later
processes load that instead, *only* if it was made from exactly the bytes now present: its key is
a SHA-256 over every content file (names and bytes) and over the modules that define and check the
catalog. Anything else (no snapshot, another key, a damaged or unreadable file, a read-only
directory) falls back to the full load, which stays the one source of truth.

The snapshot holds the catalog as plain data (tuples, dicts, strings, numbers; a record as a list
of its class name and field values) written with :mod:`marshal`, which is built into the
interpreter: ``pickle`` cost ~1.2 ms to import and ~0.4 MiB on every cold start. Rebuilding the
records through their constructors also gives them the compact instance layout that fresh objects
have, so reading their fields on every turn is as fast as it can be. The snapshot is only ever
written by this module, into the package directory, so loading it trusts nothing the code itself
does not already trust.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import marshal
import os
from pathlib import Path
from typing import Any

from skill import catalog as catalog_module
from skill.catalog import Catalog, load_catalog
from skill.records import Record, field_names, replace

logger = logging.getLogger(__name__)

# Bumped when the snapshot's layout changes; part of the key, with marshal's own format version.
FORMAT = b"rls-coach catalog snapshot 2, marshal %d" % marshal.version
# Plain-data tags for the two non-record values a catalog holds besides plain data.
_TIME = "datetime.time"
_PATH = "pathlib.Path"
_PACKAGE_DIR = Path(__file__).parent
# The code whose behaviour the snapshot captures: the dataclasses, the checks, template expansion.
_CODE_FILES = ("catalog.py", "catalog_loader.py", "records.py", "utterances.py")


def content_key(directory: Path) -> str:
    """SHA-256 over the content under ``directory`` and the code that reads it."""
    digest = hashlib.sha256(FORMAT)
    for name in _CODE_FILES:
        _add(digest, f"code/{name}", (_PACKAGE_DIR / name).read_bytes())
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        _add(digest, path.relative_to(directory).as_posix(), path.read_bytes())
    return digest.hexdigest()


def _add(digest: hashlib._Hash, name: str, data: bytes) -> None:
    # Lengths first, so no two different sets of files can feed the hash the same bytes.
    encoded = name.encode()
    digest.update(len(encoded).to_bytes(8, "big") + encoded + len(data).to_bytes(8, "big"))
    digest.update(data)


def read_snapshot(snapshot: Path, key: str) -> Catalog | None:
    """The catalog in ``snapshot`` if it was made under ``key``; None otherwise."""
    try:
        stored_key, plain = marshal.loads(snapshot.read_bytes())
        if stored_key != key:
            logger.info("the catalog snapshot %s is stale; reading the content", snapshot)
            return None
        catalog = _rebuild(plain)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged or foreign file is a cache miss, never a failure
        logger.warning("ignoring the unreadable catalog snapshot %s: %s", snapshot, exc)
        return None
    if not isinstance(catalog, Catalog):
        logger.warning("ignoring the catalog snapshot %s: it holds no catalog", snapshot)
        return None
    return catalog


def _plain(value: Any) -> Any:
    """``value`` as plain data that marshal can hold (see :func:`_rebuild`)."""
    if isinstance(value, Record):
        return [type(value).__name__, *(_plain(getattr(value, n)) for n in field_names(value))]
    if isinstance(value, tuple):
        return tuple(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, dt.time) and value.tzinfo is None:
        return [_TIME, value.hour, value.minute, value.second, value.microsecond]
    if isinstance(value, Path):
        return [_PATH, str(value)]
    if value is None or type(value) in {str, int, float, bool}:
        return value
    raise TypeError(f"a catalog snapshot cannot hold {type(value).__name__} values")


def _rebuild(plain: Any) -> Any:
    """The value :func:`_plain` made ``plain`` from; lists are records (or times, paths)."""
    kind = type(plain)
    if kind is list:
        name, *values = plain
        if name == _TIME:
            return dt.time(*values)
        if name == _PATH:
            return Path(*values)
        record_class = getattr(catalog_module, name)
        if not (isinstance(record_class, type) and issubclass(record_class, Record)):
            raise TypeError(f"{name} is not a catalog record")
        return record_class(*[_rebuild(value) for value in values])
    if kind is tuple:
        return tuple([_rebuild(item) for item in plain])
    if kind is dict:
        return {key: _rebuild(item) for key, item in plain.items()}
    return plain


def write_snapshot(snapshot: Path, key: str, catalog: Catalog) -> bool:
    """Store ``catalog`` under ``key``, atomically; False (and a log line) if it cannot."""
    # Only a process that writes the snapshot pays for tempfile (it brings shutil, bz2, lzma):
    # a cold start that reads a fresh one does not.
    import tempfile  # noqa: PLC0415

    try:
        data = marshal.dumps((key, _plain(catalog)))
    except (TypeError, ValueError) as exc:  # a value the snapshot has no form for: no snapshot
        logger.warning("could not write the catalog snapshot %s: %s", snapshot, exc)
        return False
    try:
        handle, temporary = tempfile.mkstemp(prefix=snapshot.name, dir=snapshot.parent)
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide it from Lambda's runtime user
            # Readers see the old file or the new one, never half of one (several servers or
            # test workers may load the content at once).
            os.replace(temporary, snapshot)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:  # e.g. Lambda's read-only package directory
        logger.info("could not write the catalog snapshot %s: %s", snapshot, exc)
        return False
    return True


def load_with_snapshot(directory: Path, snapshot: Path) -> Catalog:
    """The catalog for ``directory``: from ``snapshot`` when it matches the content and code,
    otherwise loaded in full (raising :class:`~skill.catalog.CatalogError` on any problem) and
    written to ``snapshot`` for the next process."""
    key = content_key(directory)
    catalog = read_snapshot(snapshot, key)
    if catalog is not None:
        # The directory is not part of the key: the package may have moved since.
        return replace(catalog, directory=directory)
    catalog = load_catalog(directory)
    write_snapshot(snapshot, key, catalog)
    return catalog
