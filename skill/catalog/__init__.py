"""The content catalog: the YAML under ``skill/content`` read into frozen dataclasses.

One module each: :mod:`~skill.catalog.model` (the dataclasses and ``ContentError``),
:mod:`~skill.catalog.schemas` (what each file may hold), :mod:`~skill.catalog.loader` (reading
the files and building the catalog: ``default_catalog``, ``load_catalog``, ``collect_errors``),
:mod:`~skill.catalog.checks` (what one entry says about another), :mod:`~skill.catalog.errors`
(addressing and wording each problem) and :mod:`~skill.catalog.utterances` (sample templates).
"""
