"""Helpers shared by test modules: plain functions that fixtures and tests both call."""
