"""The seed text and its assertive sentences.

The package ships a copy of ``shared/seed/weight-init-claims.txt`` (the text whose claims the registry
states) so that quotes can be checked and rendered without the shared folder; a test asserts that the
copy equals the shared original when that is present.

A sentence is *assertive* unless it is a question (the seed's headings).  Every assertive sentence must
be quoted by at least one claim (:func:`uncovered_sentences` lists the ones that are not).
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

SEED_NAME = "weight-init-claims.txt"

# a sentence ends at . ! ? followed by whitespace and an upper-case letter ("e.g. zero", "i.e. setting"
# and "etc., etc." do not end one)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@lru_cache(maxsize=1)
def seed_text() -> str:
    """The seed text, exactly as shipped."""
    return resources.files("invariants.claims").joinpath("data", SEED_NAME).read_text(encoding="utf-8")


def sentences(text: str | None = None) -> list[str]:
    """All sentences of the seed, in order (paragraphs split on blank lines, then on sentence ends)."""
    text = seed_text() if text is None else text
    out: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if para:
            out.extend(s.strip() for s in _SENTENCE_END.split(para) if s.strip())
    return out


def assertive_sentences(text: str | None = None) -> list[str]:
    """Sentences that assert something: every sentence that is not a question, without repeats."""
    seen: dict[str, None] = {}
    for s in sentences(text):
        if not s.endswith("?"):
            seen.setdefault(s, None)
    return list(seen)


def uncovered_sentences(quotes: list[str], text: str | None = None) -> list[str]:
    """Assertive sentences that no quote contains."""
    return [s for s in assertive_sentences(text) if not any(s in q for q in quotes)]


def quotes_not_in_seed(quotes: list[str], text: str | None = None) -> list[str]:
    """Quotes that are not verbatim substrings of the seed (whitespace-normalized)."""
    flat = " ".join((seed_text() if text is None else text).split())
    return [q for q in quotes if " ".join(q.split()) not in flat]
