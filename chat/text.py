"""Unicode hygiene for names, texts and emails: one look, one spelling (issue 19, finding 7)."""

from __future__ import annotations

import re
import unicodedata

import emoji


def _format_characters() -> str:
    # Every format (Cf) character: bidi controls, zero-width ones, the BOM, soft hyphen, tags...
    # Taken from the running Python's Unicode tables, so a newer Unicode is covered without a list
    # to keep. They all live in planes 0, 1 and 14; scanning only those keeps the import fast.
    planes = (range(0x20000), range(0xE0000, 0xE1000))
    found = [chr(c) for plane in planes for c in plane if unicodedata.category(chr(c)) == "Cf"]
    return "".join(re.escape(c) for c in found)


_FORMAT = _format_characters()
# Controls (C0, DEL, C1) and lone surrogates (JSON can carry them; UTF-8 cannot store them).
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
_INVISIBLE = re.compile(f"[{_FORMAT}{_CONTROLS}]")
# Characters that draw as blank space without being white space: Hangul fillers (U+3164, the
# half-width U+FFA0, U+115F, U+1160), the blank braille pattern, Khmer inherent vowels.
FILLERS = "\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0"
_BLANK = re.compile(f"[\\s{FILLERS}]+")
_SEEN = re.compile(f"[^\\s{FILLERS}]")
_JOINERS = "\u200c\u200d"  # ZWNJ, ZWJ
_EMOJI_JOINED = "\u200d" + "".join(chr(c) for c in range(0xE0020, 0xE0080))  # ZWJ, tag letters


def _strip_invisible(text: str, *, joiners_in_words: bool) -> str:
    """Drop format and control characters, except those that are part of an emoji (the ZWJ in 👨‍👩‍👧,
    the tags in a subdivision flag) and, in prose, a ZWNJ/ZWJ between letters (Persian and Indic
    scripts spell words with them)."""
    if not _INVISIBLE.search(text):
        return text  # the common case costs one scan
    spans: list[tuple[int, int]] | None = None

    def keep(match: re.Match[str]) -> str:
        nonlocal spans
        char, at = match.group(), match.start()
        if char in _EMOJI_JOINED:
            if spans is None:
                spans = [(m["match_start"], m["match_end"]) for m in emoji.emoji_list(text)]
            starts, ends = {s for s, _ in spans}, {e for _, e in spans}
            if any(s <= at < e for s, e in spans) or (at in ends and at + 1 in starts):
                return char
        if joiners_in_words and char in _JOINERS and 0 < at < len(text) - 1:
            before, after = unicodedata.category(text[at - 1]), unicodedata.category(text[at + 1])
            if before[0] in "LM" and after[0] == "L":
                return char
        return ""

    return _INVISIBLE.sub(keep, text)


def visible(text: str) -> bool:
    """Whether anything but white space and blank fillers is left to see."""
    return _SEEN.search(text) is not None


def clean_name(value: str) -> str:
    """A name (of a person or a room) as an identifier: NFKC (fullwidth and styled letters become
    plain ones), no invisible characters, fillers counted as spaces, runs of spaces made one."""
    value = _strip_invisible(unicodedata.normalize("NFKC", value), joiners_in_words=False)
    return _BLANK.sub(" ", value).strip()


def clean_prose(value: str) -> str:
    """A message, a bio or a description: NFC (nothing a writer chose is rewritten), no invisible
    characters, lines kept (CR LF and CR become LF), surrounding white space trimmed."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    return _strip_invisible(value, joiners_in_words=True).strip()


def clean_email(value: str, *, strict: bool = True) -> str:
    """One spelling per mailbox: NFKC, lower case, the domain in ASCII (IDNA). A local part that is
    not ASCII after that (fullwidth letters become ASCII; a Turkish İ does not) raises ValueError
    when `strict`; at login it is kept as is and simply matches no account."""
    value = unicodedata.normalize("NFKC", value).strip().lower()
    local, at, domain = value.rpartition("@")
    if not at:
        if strict:
            raise ValueError("Not a valid email address.")
        return value
    if not local.isascii():
        if strict:
            raise ValueError("The part before @ must be ASCII letters, digits and punctuation.")
        return value
    try:
        domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        if strict:
            raise ValueError("Not a valid domain.") from None
    return f"{local}@{domain}"
