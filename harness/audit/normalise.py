"""Text normalisation shared by every audit method.

`words` is what exact, n-gram and near-duplicate matching see: Unicode NFKC,
case folded, punctuation dropped, whitespace collapsed. `template_tokens` is
what template matching sees: the same words with the variable parts of a
templated row (numbers, dates, money, capitalised name spans) replaced by
placeholders, so "Anna paid $12 on 3 May" and "Tom paid $40 on 9 June" agree.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")

MONTHS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
WEEKDAYS = frozenset(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])
PLACEHOLDERS = ("<num>", "<date>", "<money>", "<name>")

# one token at a time, most specific first: money, dates, numbers, words, sentence ends
_TOKEN = re.compile(
    r"(?P<money>[$€£¥]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*(?:\.\d+)?\s?(?:usd|eur|gbp|dollars?|euros?|pounds?)\b)"
    r"|(?P<date>\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4})"
    r"|(?P<num>\d+(?:[.,:]\d+)*(?:st|nd|rd|th)?)"
    r"|(?P<word>\w+)"
    r"|(?P<end>[.!?;:\n])",
    re.IGNORECASE,
)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def words(text: str) -> list[str]:
    """Case-folded words of NFKC text; punctuation and whitespace only separate them."""
    return _WORD.findall(nfkc(text).casefold())


def normalise(text: str) -> str:
    """The form `exact` compares: words joined by single spaces."""
    return " ".join(words(text))


def template_tokens(text: str) -> list[str]:
    """Words with numbers, dates, money and capitalised name spans masked.

    A capitalised word counts as a name only away from a sentence start (the
    first word of a sentence is capitalised anyway) and never for "I". Month and
    weekday names (capitalised; months not at a sentence start) are dates. Consecutive placeholders of one
    kind collapse into one, so "Anna Maria Lopez" and "Tom" mask alike.
    """
    out: list[str] = []
    sentence_start = True
    text = nfkc(text)
    cased = any(c.islower() for c in text)  # in ALL-CAPS text a capital says nothing about names
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "end":
            sentence_start = True
            continue
        if kind == "word":
            word = m.group()
            folded = word.casefold()
            # a capitalised month or weekday is a date; a sentence-initial "May" is more often the verb
            if word[0].isupper() and (folded in WEEKDAYS or (folded in MONTHS and not sentence_start)):
                token = "<date>"
            elif cased and word[0].isupper() and not sentence_start and word != "I":
                token = "<name>"
            else:
                token = folded
        else:
            token = f"<{kind}>"
        sentence_start = False
        if not (token in PLACEHOLDERS and out and out[-1] == token):
            out.append(token)
    return out


def is_literal(token: str) -> bool:
    """A token that is part of a frame, not a masked variable part."""
    return token not in PLACEHOLDERS
