"""The content catalog: the YAML under ``skill/content`` read, validated and cross-checked
(:mod:`skill.catalog.loader`) into frozen dataclasses (:mod:`skill.catalog.model`)."""
