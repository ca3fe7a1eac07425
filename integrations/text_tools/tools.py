"""Local text utilities for the agent: counting, slugs, URL extraction, case conversion.

Pure functions, no I/O, no configuration: results are small typed values so a
tool call never floods the model's context.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from pydantic_ai.toolsets import FunctionToolset

# Generous for pasted documents, but bounded: the model cannot make a tool chew gigabytes.
MAX_TEXT_CHARS = 1_000_000
MAX_URLS = 200
WORDS_PER_MINUTE = 230  # adult silent-reading average

Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
Case = Literal["lower", "upper", "title", "sentence", "snake", "kebab", "camel", "pascal", "constant"]

# A word is a run of letters/digits, joined across inner apostrophes and hyphens ("don't", "e-mail").
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\"*"
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}


class TextStats(BaseModel):
    """Counts for one text. ``words`` joins contractions and hyphenated words."""

    characters: int
    characters_without_spaces: int
    words: int
    unique_words: int
    lines: int
    paragraphs: int
    reading_time_minutes: float


class ExtractedUrls(BaseModel):
    """Distinct URLs in order of first appearance; ``truncated`` when more than ``limit`` were found."""

    urls: list[str]
    total: int
    truncated: bool


def word_count(text: Text) -> TextStats:
    """Count characters, words, unique words (case-insensitive), lines and paragraphs, and estimate reading time."""
    words = _WORD.findall(text)
    stripped = text.strip()
    return TextStats(
        characters=len(text),
        characters_without_spaces=sum(1 for c in text if not c.isspace()),
        words=len(words),
        unique_words=len({w.casefold() for w in words}),
        lines=len(text.splitlines()),
        paragraphs=len([p for p in re.split(r"\n\s*\n", stripped) if p.strip()]) if stripped else 0,
        reading_time_minutes=math.ceil(len(words) / WORDS_PER_MINUTE * 10) / 10,
    )


def slugify(
    text: Text, separator: Literal["-", "_"] = "-", max_length: Annotated[int, Field(ge=1, le=200)] = 80
) -> str:
    """Turn text into a URL/file-name slug: ASCII lowercase words joined by ``separator``.

    At most ``max_length`` characters, never cut mid-word.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}{separator}{word}" if slug else word
        if len(candidate) > max_length:
            # A single over-long first word is cut; otherwise stop at the last whole word.
            return slug or word[:max_length]
        slug = candidate
    return slug


def extract_urls(text: Text, limit: Annotated[int, Field(ge=1, le=MAX_URLS)] = 50) -> ExtractedUrls:
    """Find http(s) and www. URLs in text, without trailing punctuation, de-duplicated, first ``limit`` returned."""
    seen: dict[str, None] = {}
    for match in _URL.finditer(text):
        url = _trim_url(match.group(0))
        if url.lower().startswith("www."):
            url = "https://" + url
        if len(url) > len("https://") and url not in seen:
            seen[url] = None
    urls = list(seen)
    return ExtractedUrls(urls=urls[:limit], total=len(urls), truncated=len(urls) > limit)


def change_case(text: Text, case: Case) -> str:
    """Convert text to a case: lower, upper, title, sentence (first letter capitalised).

    Or to an identifier style (words split at spaces, punctuation and camelCase humps):
    snake, kebab, camel, pascal, constant.
    """
    if case == "lower":
        return text.lower()
    if case == "upper":
        return text.upper()
    if case == "title":
        return " ".join(w[:1].upper() + w[1:].lower() for w in text.split(" "))
    if case == "sentence":
        lowered = text.strip().lower()
        return lowered[:1].upper() + lowered[1:]
    parts = [p.lower() for p in _identifier_parts(text)]
    if case == "snake":
        return "_".join(parts)
    if case == "kebab":
        return "-".join(parts)
    if case == "constant":
        return "_".join(parts).upper()
    pascal = "".join(p[:1].upper() + p[1:] for p in parts)
    return pascal if case == "pascal" else pascal[:1].lower() + pascal[1:]


def build_toolset() -> FunctionToolset:
    toolset: FunctionToolset = FunctionToolset()
    for function in (word_count, slugify, extract_urls, change_case):
        toolset.add_function(function, takes_ctx=False)
    return toolset


def _trim_url(url: str) -> str:
    # Prose wraps URLs in punctuation: "(see https://x.org/a)." keeps the path, drops ")." —
    # but a closing bracket the URL itself opened (Wikipedia's "Foo_(bar)") stays.
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last]):
            url = url[:-1]
        else:
            break
    return url


def _identifier_parts(text: str) -> list[str]:
    # "parseHTTPResponse" -> parse, HTTP, Response; works for any script str.isupper() knows.
    parts: list[str] = []
    for word in re.findall(r"[^\W_]+", text):
        start = 0
        for i in range(1, len(word)):
            prev, cur, nxt = word[i - 1], word[i], word[i + 1 : i + 2]
            if (prev.islower() and cur.isupper()) or (prev.isupper() and cur.isupper() and nxt.islower()):
                parts.append(word[start:i])
                start = i
        parts.append(word[start:])
    return parts
