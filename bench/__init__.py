"""Benchmarks: the coach measured against a hello-world ask-sdk skill served the same way.

``python -m bench`` (or ``make bench``) prints a table of ratios, ours / baseline, with medians and
spread, and writes the figures as JSON. See ``docs/benchmarks.md`` for what each figure means.
"""
