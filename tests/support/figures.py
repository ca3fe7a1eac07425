"""Figures reliability tests report; printed once at the end of the run (see conftest)."""

from __future__ import annotations

FIGURES: dict[str, str] = {}


def report(key: str, line: str) -> None:
    FIGURES[key] = line
