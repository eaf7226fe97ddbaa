"""Find what a person's own words are about, across everything the catalog knows.

Alexa fills a slot with whatever words stood in its place, and a free question ("does coffee
make it worse") arrives as plain text. :func:`find` reads such words and names the catalog entry
they are about: an exercise, a routine, an activity, a tip topic or a medicine, by the names,
synonyms and keywords the YAML gives each entry. Any handler can use it, so an answer does not
depend on which intent happened to catch the question.

Matching is plain word matching, which is enough for speech: Alexa hands over real words, never
typos, so the only variation left is plurals ("bridges", "ice packs") and filler around the name.
A name said anywhere in the words counts; the longest name wins, then a name over a keyword.
Medicines and sensitive topics win over everything else: a question that names one always gets
the doctor answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from skill.catalog.model import GENERAL_KIND, Catalog

# The kinds of entry, in the order a tie between equally good matches goes.
EXERCISE, ROUTINE, ACTIVITY, TIP, MEDICINE = "exercise", "routine", "activity", "tip", "medicine"
KINDS = (EXERCISE, ROUTINE, ACTIVITY, TIP, MEDICINE)
SLOT_TYPE_KINDS = {
    "EXERCISE": EXERCISE,
    "ROUTINE": ROUTINE,
    "ACTIVITY": ACTIVITY,
    "TIP_TOPIC": TIP,
    "MEDICINE": MEDICINE,
}
# Words that never make a name on their own account ("the bridge" is "bridge").
_LEADING = frozenset({"a", "an", "the", "my", "some", "any", "your", "this", "that"})


@dataclass(frozen=True, slots=True)
class Found:
    """The entry some words are about: its kind (see KINDS), catalog id, and the phrase heard."""

    kind: str
    id: str
    phrase: str
    sensitive: bool = False  # a medicine or a sensitive topic: only the doctor answer


@dataclass(frozen=True, slots=True)
class _Name:
    words: tuple[str, ...]
    found: Found
    keyword: bool  # a keyword, not a name or synonym: weaker than a name of the same length
    general: bool = False  # the catch-all activity: loses every tie


def _stem(word: str) -> str:
    """Plural folding, the only variation spoken names show: "packs" → "pack", "bridges" →
    "bridge", "stretches" → "stretch"; "glass" and "plus" stay."""
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> tuple[str, ...]:
    """Lower-case, stemmed words, with punctuation dropped and "-" as a space."""
    plain = re.sub(r"[^a-z0-9']+", " ", text.lower().replace("\u2019", "'").replace("-", " "))
    return tuple(_stem(w.strip("'")) for w in plain.split() if w.strip("'"))


class Lookup:
    """Every spoken name of a catalog, indexed once per catalog (see :func:`lookup_for`)."""

    def __init__(self, catalog: Catalog) -> None:
        self._names: list[_Name] = []
        self._exact: dict[tuple[tuple[str, ...], str], Found] = {}
        for kind, entries in (
            (EXERCISE, catalog.exercises),
            (ROUTINE, catalog.routines),
            (ACTIVITY, catalog.activities),
            (TIP, catalog.tips),
            (MEDICINE, catalog.medicines),
        ):
            for entry in entries.values():
                sensitive = kind == MEDICINE or bool(getattr(entry, "sensitive", False))
                # The catch-all "exercise" is named as weakly as a keyword in free words ("does
                # the ironing count as exercise" is about the ironing), yet stays a slot value.
                general = getattr(entry, "kind", None) == GENERAL_KIND
                names = (entry.name, *entry.synonyms)
                self._add(
                    kind, entry.id, sensitive, names, keyword=general, exact=True, general=general
                )
                keywords = getattr(entry, "keywords", ())
                self._add(
                    kind, entry.id, sensitive, keywords, keyword=True, exact=False, general=general
                )

    def _add(
        self,
        kind: str,
        entry_id: str,
        sensitive: bool,
        phrases: Iterable[str],
        *,
        keyword: bool,
        exact: bool,
        general: bool = False,
    ) -> None:
        for phrase in phrases:
            said = words(phrase)
            if not said:
                continue
            found = Found(kind, entry_id, phrase, sensitive)
            self._names.append(_Name(said, found, keyword, general))
            if exact:
                self._exact.setdefault((_trimmed(said), kind), found)

    def value(self, text: str | None, kind: str) -> Found | None:
        """The entry of ``kind`` whose name or synonym ``text`` is, as a slot value: "a soda" is
        the caffeine topic, "ice packs" the compresses. Nothing for words that only mention one."""
        if not text:
            return None
        return self._exact.get((_trimmed(words(text)), kind))

    def find(
        self,
        text: str | None,
        prefer: Sequence[str] = (),
        *,
        kinds: Sequence[str] = KINDS,
        keywords: bool = True,
    ) -> Found | None:
        """The entry ``text`` is about, wherever in it the entry is named; None if no entry is.
        Among equally long names, a kind in ``prefer`` (earlier first) wins the tie. ``kinds``
        narrows the search; ``keywords=False`` leaves out the weaker keywords."""
        if not text:
            return None
        said = words(text)
        best: tuple[tuple[int, ...], Found] | None = None
        for name in self._names:
            kind = name.found.kind
            if kind not in kinds or (name.keyword and not keywords):
                continue
            if not _contains(said, name.words):
                continue
            rank = (
                name.found.sensitive,
                len(name.words),
                not name.keyword,
                not name.general,
                -(prefer.index(kind) if kind in prefer else len(prefer)),
                -KINDS.index(kind),
            )
            if best is None or rank > best[0]:
                best = (rank, name.found)
        return best[1] if best else None

    def name_spans(self, said: Sequence[str]) -> list[tuple[int, int]]:
        """Where in ``said`` (already :func:`words`) a catalog name or synonym of an ordinary
        entry stands, as (start, end) word positions; medicines and keywords are left out."""
        spans = []
        for name in self._names:
            if name.keyword or name.found.sensitive:
                continue
            size = len(name.words)
            spans.extend(
                (at, at + size)
                for at in range(len(said) - size + 1)
                if tuple(said[at : at + size]) == name.words
            )
        return spans


def _trimmed(said: tuple[str, ...]) -> tuple[str, ...]:
    while len(said) > 1 and said[0] in _LEADING:
        said = said[1:]
    return said


def _contains(said: tuple[str, ...], name: tuple[str, ...]) -> bool:
    size = len(name)
    return any(said[i : i + size] == name for i in range(len(said) - size + 1))


def lookup_for(catalog: Catalog) -> Lookup:
    """The index for ``catalog``, built on first use and kept with the catalog (see
    :meth:`Catalog.derived`). Building it takes about 3.5 ms, and a "can I" turn looks up each of
    its slots: rebuilt per call, that would add ~10 ms to such turns, straight onto the webhook's
    tail latency under load."""
    return catalog.derived(Lookup)


def find(catalog: Catalog, text: str | None, prefer: Sequence[str] = ()) -> Found | None:
    """What ``text`` is about in ``catalog`` (see :meth:`Lookup.find`)."""
    return lookup_for(catalog).find(text, prefer)
