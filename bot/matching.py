"""Supplier name matching: normalise once, look up exactly, rank the closest, noise and all.

Pure and I/O-free. A `SupplierIndex` is built once per sync from a connection's active suppliers
and is immutable afterwards, so any number of threads may read it at once; `with_supplier`
returns a new index.

Normalisation (`normalize`) turns a name into three fields compared separately:

* `core` — the words: the first 200 characters, case-folded, accents and marks removed (plus
  ø→o, æ→ae, œ→oe, ł→l, đ/ð→d, þ→th, ß→ss), other scripts transliterated with anyascii
  ("Москва" → "moskva", ideographs a syllable each: "华为" → "hua wei"), apostrophes dropped
  ("McDonald's" → "mcdonalds"), dotted abbreviations joined ("S.A." → "sa", "J. P." → "jp"), runs
  of single letters joined ("A B C" → "abc"), `&` and `+` read as "and", every other
  non-alphanumeric character (punctuation, control characters, emoji) a word break, numbers
  without leading zeros ("007" → "7"), a few unambiguous abbreviations spelled out ("Bros" →
  "brothers", "Intl" → "international", "Centre" → "center", ...), a leading "The" dropped;
* `legal_form` — a trailing legal form, in canonical spelling ("Limited" → "ltd", "L.L.C." → "llc",
  "Pty. Limited" → "pty ltd", "& Co" → "co", "Sp. z o.o." → "sp zoo"), or one written first in
  Cyrillic or CJK script ("ZAO «...»", "株式会社..."); a name that is nothing but a legal form
  keeps it as its core;
* `numbers` — the numbers of the core, and those of short codes ("A1", "M25"), without leading
  zeros; a digit inside a longer word ("Hi1bert") is noise, not a number.

Two legal forms are compatible when either is missing or they belong to the same family: the
"ltd" family holds ltd, pty ltd, pvt ltd, pte ltd and co ltd (which is also in the "co" family),
a GmbH & Co. KG is a KG; every other form is its own family, so PLC and LLC, or Inc and Corp, are
different companies.

Exact lookups (`SupplierIndex.exact`, the only way a bill is published without asking) compare
cores and legal forms. Everything else is ranked by `score`, which combines, by measurement on
generated data (`python -m bench.matcher_calibration`, bench/eval_names.py; development split
only): a character ratio of the names without spaces, with and without the legal form, in
which two neighbouring letters swapped, or a digit in place of a letter, count as one typo,
and a letter replaced, the only typo, as one and a half (`typo_ratio`; a typo in any
letter, split or joined words, a legal form run into the name:
"DillPLC", "JonesIncorporated"; a legal form on one side
only counts in letters where the other name ends much like it; two names written in
ideographs are compared as written, an ideograph replaced one typo); word alignment,
each word paired once, a misspelt word still a match whatever letter the typo hit, a word
garbled past that still worth its letters in common (GARBLED_FLOOR: "Escobar-Dos_" is
Escobar-Rose, not Escobar Ltd with a word added), two words run together and mistyped split
as the other name's ("JonesKaisre"), less EXTRA_WORD_PENALTY per word one name has more (a
dropped or added word); a name cut short (card
statements keep 22 characters); initials ("IBM", "P&G"); the same words in another order
(SAME_WORDS_SCORE); one name's words in order in the other's with one word more
(CONTAINED_SCORE: a dropped word, or one added first or last), both also with misspelt words,
scaled by how close they are (and by REORDERED_MISSPELT for misspelt words in another
order); a legal form of one name found among the other's words mistyped, split or glued on
("Santiago PZC", "KG aA", "Klap0AG"). A conflicting legal form or differing
numbers then scale the score down, and so, less, does a legal form on one side only (more when
only the query has it) or of the same family but not the same. A number is a word of digits or a
short code ("A1", "3M"); a digit between two letters is a typo ("m3H"). A little of the plain
character ratio of the names as written (PLAIN_SHARE) breaks near-ties, and the letter pairs
the names share (`_pairs_shared`) exact ones. Only the same name,
normalised alike but for spaces, scores 100; names the rules find as sure but not the same (a
legal form one typo from two: "Acme SASL") are ranked by their letters without spaces, then as
written.

A looked-up name has other readings too (`query_forms`): less the noise inside its words
(`squeezed`: a control character or punctuation between two letters, "Whit^akerLLC"); up to a
legal form followed by one more word ("Munoz PLC Services"; scored against suppliers with a legal
form only); with a CJK legal form one character wrong or broken by punctuation ("株式0社");
and, when nothing scores LAST_WORD_BELOW, less a last word that is one of the suppliers' words
("Klapp AG Services"). Card-statement and till lines
(in capitals, or with a "*" or a domain; any other name is only read less a trailing country
code) are also looked up as the merchant they name (`strip_descriptor`: "SQ *", "PAYPAL *",
"AMZN Mktp UK*...", store numbers, references, domains, in a line in capitals a long word of no
supplier's name), and as that merchant less its last word (a city, a word cut short); a line of
exactly 22 characters is cut there, so a name it begins is close (CUT_SCORE), whatever the cut
did to its legal form. None of these readings ever makes an exact match.
"""

from __future__ import annotations

import gc
import re
import sys
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from heapq import nlargest
from itertools import accumulate, pairwise
from math import log
from operator import itemgetter
from typing import NamedTuple

import numpy
from anyascii import anyascii
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, Levenshtein
from rapidfuzz.utils import default_process

MAX_NAME_CHARS = 200

# ---------------------------------------------------------------------------------------------
# Normalisation

_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "\u0131": "i"}
)
_APOSTROPHES = re.compile("['`\u2018\u2019\u02bc\u00b4]")
# Two or more single letters each followed by a dot: "S.A.", "j. p.", "L.L.C".
_DOTTED = re.compile(r"\b(?:[^\W\d_]\.\s*){2,}(?:[^\W\d_]\b)?")
_AND = re.compile(r"[&+]")
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
_MAX_CODE_LETTERS = 3

_ABBREVIATIONS = {
    "bros": "brothers",
    "intl": "international",
    "svcs": "services",
    "svc": "service",
    "mfg": "manufacturing",
    "mgmt": "management",
    "assoc": "associates",
    "natl": "national",
    "dept": "department",
    "centre": "center",
    "ctr": "center",
}

# Legal forms written only in Cyrillic, before the name, and spelled out in Latin by `_latin`:
# in Latin script "IP", "Rao" and "NPO" are words of a name ("Srinivasa Rao"). Compared in
# letters by the short form, so two sole traders are not alike for 28 letters in common.
_SPELLED_OUT = {
    "ip": "individualnyi predprinimatel",  # a sole trader
    "rao": "rossiiskoe aktsionernoe obshchestvo",
    "npo": "nauchno proizvodstvennoe obedinenie",
}
# Spellings of legal forms, as word sequences after the rules above, to their canonical form.
_LEGAL_SPELLINGS = {
    "ltd": ("ltd", "limited", "ltee"),
    "pty ltd": ("pty ltd", "pty limited", "proprietary limited", "pty"),
    "pvt ltd": ("pvt ltd", "pvt limited", "private limited"),
    "pte ltd": ("pte ltd", "pte limited", "pte"),
    "co ltd": ("co ltd", "co limited", "company limited", "company ltd", "and co ltd"),
    "plc": ("plc", "public limited company"),
    "llc": ("llc", "limited liability company", "l l c"),
    "llp": ("llp", "limited liability partnership"),
    "lp": ("lp", "limited partnership"),
    "inc": ("inc", "incorporated"),
    "corp": ("corp", "corporation"),
    "co": ("co", "company", "and co", "and company"),
    "gmbh": ("gmbh",),
    "gmbh co kg": ("gmbh and co kg", "gmbh co kg"),
    "kg": ("kg",),
    "ag": ("ag",),
    "ug": ("ug",),
    "sa": ("sa",),
    "sas": ("sas",),
    "sasu": ("sasu",),
    "sarl": ("sarl",),
    "eurl": ("eurl",),
    "srl": ("srl",),
    "spa": ("spa",),
    "bv": ("bv",),
    "nv": ("nv",),
    "ab": ("ab",),
    "oy": ("oy", "oyj"),
    "as": ("as", "asa"),
    "aps": ("aps",),
    "kk": ("kk", "kabushiki kaisha"),
    "sdn bhd": ("sdn bhd",),
    # More of Europe's and Asia's common forms, as they read after the rules above.
    "kgaa": ("kgaa",),
    "gmbh co kgaa": ("gmbh and co kgaa", "gmbh co kgaa"),
    "ag co kg": ("ag and co kg", "ag co kg"),
    "ohg": ("ohg",),
    "gbr": ("gbr",),
    "ev": ("ev",),
    "eg": ("eg",),
    "sl": ("sl", "s l"),
    "sll": ("sll",),
    "slu": ("slu",),
    "s coop": ("s coop", "scoop"),
    "sat": ("sat",),
    "s com": ("s com",),
    "snc": ("snc",),
    "sca": ("sca",),
    "vof": ("vof",),
    "hb": ("hb",),
    "kb": ("kb",),
    "ry": ("ry",),
    "sp zoo": ("sp zoo", "spolka zoo"),
    "spj": ("spj", "sp j"),
    "sro": ("sro", "spol sro"),
    "vos": ("vos",),
    "kft": ("kft",),
    "bt": ("bt",),
    "zrt": ("zrt",),
    "nyrt": ("nyrt",),
    "ltda": ("ltda",),
    "ltd sti": ("ltd sti",),
    "ooo": ("ooo",),
    "zao": ("zao",),
    "oao": ("oao",),
    "pao": ("pao",),
    "eood": ("eood",),
    "ood": ("ood",),
    "ead": ("ead",),
    "yk": ("yk", "yugen kaisha"),
    "gk": ("gk", "godo kaisha"),
    "ao": ("ao",),
    "ad": ("ad",),
    # Russian forms written before the name: only their Cyrillic abbreviations, spelled out.
    **{canonical: (spelling,) for canonical, spelling in _SPELLED_OUT.items()},
}
_LEGAL_FORMS = {
    tuple(spelling.split()): canonical
    for canonical, spellings in _LEGAL_SPELLINGS.items()
    for spelling in spellings
}
_LEGAL_MAX_WORDS = max(len(words) for words in _LEGAL_FORMS)
# A one-word legal form's one-word spellings, longest first: what may be glued to a name's last
# word ("JonesIncorporated", "ScottLLC").
_GLUED_SPELLINGS = {
    canonical: tuple(sorted((s for s in spellings if " " not in s), key=len, reverse=True))
    for canonical, spellings in _LEGAL_SPELLINGS.items()
    if " " not in canonical
}
_FAMILIES = {
    "pty ltd": frozenset({"ltd"}),
    "pvt ltd": frozenset({"ltd"}),
    "pte ltd": frozenset({"ltd"}),
    "co ltd": frozenset({"ltd", "co"}),
    "ltd sti": frozenset({"ltd"}),
    # A GmbH & Co. KG is a KG whose partner is a GmbH.
    "gmbh co kg": frozenset({"kg"}),
    "ag co kg": frozenset({"kg"}),
    "gmbh co kgaa": frozenset({"kgaa"}),
}
# Legal forms written before the name in Cyrillic or CJK script ("OOO «Romashka»" in Cyrillic,
# "株式会社山田"),
# moved after it in Latin spelling so the rules above find them; the rest is transliterated.
_SCRIPT_LEGAL = (
    (re.compile(r"^\s*(ООО|ЗАО|ОАО|ПАО|РАО|АО|ИП|НПО|ЕООД|ООД|ЕАД|АД)(?=[\s«\"'])"), None),  # noqa: RUF001 - Cyrillic on purpose
    (re.compile("股份有限公司|有限责任公司|有限公司"), "co ltd"),
    (re.compile("株式会社"), "kk"),
    (re.compile("有限会社"), "yk"),
    (re.compile("合同会社"), "gk"),
)
_CYRILLIC_FORMS = {
    "ООО": "ooo",  # noqa: RUF001 - Cyrillic on purpose
    "ЗАО": "zao",  # noqa: RUF001 - Cyrillic on purpose
    "ОАО": "oao",  # noqa: RUF001 - Cyrillic on purpose
    "ПАО": "pao",
    "РАО": _SPELLED_OUT["rao"],  # noqa: RUF001 - Cyrillic on purpose
    "АО": "ao",  # noqa: RUF001 - Cyrillic on purpose
    "ИП": _SPELLED_OUT["ip"],
    "НПО": _SPELLED_OUT["npo"],
    "ЕООД": "eood",
    "ООД": "ood",
    "ЕАД": "ead",
    "АД": "ad",
}


@dataclass(frozen=True)
class NormalizedName:
    """A supplier name reduced to the fields matching compares."""

    core: str
    legal_form: str | None
    numbers: tuple[str, ...]
    # Every word, the legal form as written among them: what scoring compares in characters.
    spelled: str = field(default="", compare=False)
    # A name written in ideographs ("有限会社橋本通信"), as written: its letters and digits;
    # "" for any other name.
    glyphs: str = field(default="", compare=False)


def _ascii_digits(digits: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in digits).lstrip("0") or "0"


def _latin(text: str) -> str:
    """`text` in Latin letters: legal forms of other scripts moved last, accents dropped, ø → o,
    and what is still not ASCII transliterated with anyascii ("华为" → "hua wei")."""
    for pattern, form in _SCRIPT_LEGAL:
        found = pattern.search(text)
        if found:
            form = form or _CYRILLIC_FORMS[found.group(1)]
            text = f"{text[: found.start()]} {text[found.end() :]} {form}"
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(map(_latin_char, text))


@cache
def _latin_char(ch: str) -> str:
    """One character of an NFKD-normalised name in Latin letters: marks dropped, ø → o,
    other scripts transliterated (cached: a 100k-supplier index meets the same few thousand
    characters again and again)."""
    if ch.isascii():
        return ch
    if unicodedata.category(ch).startswith("M"):
        return ""
    folded = ch.translate(_FOLD)
    if folded != ch:
        return folded
    return _transliterated(ch)


def _transliterated(ch: str) -> str:
    if ch.isascii() or ch.isdecimal():
        return ch
    if not ch.isalpha():  # symbols and emoji separate words, as punctuation does
        return ch if _APOSTROPHES.match(ch) else " "
    if unicodedata.east_asian_width(ch) in "WF":
        # Ideographs are a syllable each: spaces keep them apart ("HuaWei" would be one word).
        return f" {anyascii(ch)} "
    return anyascii(ch) or " "


def _words(name: str) -> list[str]:
    """The normalised words of `name`, legal form included."""
    text = name[:MAX_NAME_CHARS]
    if not text.isascii():
        text = _latin(text)
    text = text.casefold()
    # Each rule only where it may apply: a 100k-supplier index normalises every name.
    if not text.isascii() or "'" in text or "`" in text:
        text = _APOSTROPHES.sub("", text)
    if "." in text:
        text = _DOTTED.sub(lambda m: "".join(_WORD.findall(m.group())) + " ", text)
    if "&" in text or "+" in text:
        text = _AND.sub(" and ", text)
    words: list[str] = []
    run: list[str] = []  # consecutive single letters, joined: "a b c" -> "abc"
    found = _WORD.findall(text)
    found.append("")
    for word in found:
        if len(word) == 1 and word.isalpha():
            run.append(word)
            continue
        if run:
            words.append("".join(run))
            run = []
        if word.isdecimal():
            words.append(_ascii_digits(word))
        elif word:
            words.append(_ABBREVIATIONS.get(word, word))
    while len(words) > 1 and words[0] == "the":
        del words[0]
    return words


def _from_words(words: list[str]) -> NormalizedName:
    spelled = " ".join(words)[:MAX_NAME_CHARS]
    legal_form = None
    for size in range(min(_LEGAL_MAX_WORDS, len(words) - 1), 0, -1):
        canonical = _LEGAL_FORMS.get(tuple(words[-size:]))
        if canonical:
            legal_form = canonical
            words = words[:-size]
            break
    core = " ".join(words)[:MAX_NAME_CHARS].rstrip()
    if legal_form in _SPELLED_OUT:
        spelled = f"{core} {legal_form}"
    numbers = (
        ()
        if not _DIGITS.search(core)
        else tuple(
            _ascii_digits(digits)
            for word in core.split()
            # A number, or a code like "A1", "M25", "3M"; a digit inside a word, between two
            # letters, is noise more often than not ("Hi1bert", "Dill1PLC", "m3H" for mbH).
            if word.isdecimal()
            or (
                sum(ch.isalpha() for ch in word) <= _MAX_CODE_LETTERS
                and not (word[0].isalpha() and word[-1].isalpha())
            )
            for digits in _DIGITS.findall(word)
        )
    )
    return NormalizedName(core, legal_form, numbers, spelled)


def normalize(name: str) -> NormalizedName:
    """Normalise a supplier name (see the module docstring for the rules)."""
    normalized = _from_words(_words(name))
    if name.isascii():
        return normalized
    glyphs = _glyphs(name)
    return replace(normalized, glyphs=glyphs) if glyphs else normalized


def _glyphs(name: str) -> str:
    """`NormalizedName.glyphs` of `name`: the letters and digits of a name written in
    ideographs (at least twice as many as other letters and digits: "有限会社9本通信", not
    "林農林 Online"), as written; "" for any other name."""
    glyphs = "".join(_WORD.findall(name[:MAX_NAME_CHARS].casefold()))
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in glyphs)
    return glyphs if wide and wide >= 2 * (len(glyphs) - wide) else ""


def _less_script_legal(glyphs: str) -> str:
    """`glyphs` less the ideographs' legal forms ("橋本通信" of "有限会社橋本通信")."""
    for pattern, form in _SCRIPT_LEGAL:
        if form is not None:  # the Cyrillic forms have none: their names are no ideographs
            glyphs = pattern.sub("", glyphs)
    return glyphs


def match_key(name: str) -> str:
    """A string equal for names that normalise alike, for storage and exact lookups."""
    normalized = normalize(name)
    return f"{normalized.core}|{normalized.legal_form or ''}"


def _families(legal_form: str) -> frozenset[str]:
    return _FAMILIES.get(legal_form) or frozenset({legal_form})


def legal_forms_compatible(a: str | None, b: str | None) -> bool:
    """Whether two canonical legal forms may name the same company (a missing one always may)."""
    return a is None or b is None or a == b or bool(_families(a) & _families(b))


# ---------------------------------------------------------------------------------------------
# Card-statement and till descriptors

# Card processors and tills that print "<processor> *<merchant>": the merchant follows the "*".
_PROCESSORS = frozenset(
    [
        "sq",
        "square",
        "sumup",
        "iz",
        "izettle",
        "ztl",
        "zettle",
        "paypal",
        "pp",
        "tst",
        "sp",
        "cko",
        "wpy",
        "smp",
        "crv",
        "py",
        "fs",
        "stripe",
        "sagepay",
        "wp",
        "clover",
        "lsp",
    ]
)
# Merchants whose descriptor abbreviates their name ("AMZN Mktp UK*...", "MSFT *...").
_ALIASES = {"amzn": "amazon", "amzn mktp": "amazon", "msft": "microsoft", "goog": "google"}
_STAR = re.compile(r"^\s*([^*]{1,30}?)\s*\*\s*(.*)$", re.DOTALL)
_DOMAIN = re.compile(
    r"(?:https?://)?(?:www\.|help\.)?([a-z0-9][a-z0-9-]*)"
    r"\.(?:com|co\.uk|co|us|net|org|io|info|eu|de|fr|ie|uk)\b(?:/\S*)?",
    re.IGNORECASE,
)
_MARKET = re.compile(r"\s+mktp(\s+[a-z]{2})?$", re.IGNORECASE)
_COUNTRIES = frozenset(
    [
        "gb",
        "uk",
        "us",
        "usa",
        "ie",
        "de",
        "fr",
        "nl",
        "es",
        "it",
        "au",
        "nz",
        "ca",
        "se",
        "dk",
        "no",
        "fi",
        "pl",
        "be",
        "ch",
        "at",
        "pt",
        "lu",
    ]
)


_MIN_MERCHANT_BEFORE_STAR = 4  # "UBER *TRIP"; "RI*U" is a name with a stray "*"
_MIN_REFERENCE_CHARS = 8  # an unknown word this long is a reference: "QLVXXGXE0"


def _is_reference(word: str) -> bool:
    """A store number, phone number or payment reference: "3217", "#12", "2K4RT0XY5"."""
    digits = sum(ch.isdigit() for ch in word)
    return digits >= 3 or (digits >= 2 and len(word) >= 6) or word.startswith("#")


def _less_country(name: str) -> str | None:
    """`name` less a trailing country code ("Rousset S.A. UK" → "Rousset S.A."), or None."""
    words = name.split()
    if len(words) < 2 or words[-1].casefold() not in _COUNTRIES:
        return None
    while len(words) > 1 and words[-1].casefold() in _COUNTRIES:
        words.pop()
    return " ".join(words)


def _star_merchant(text: str) -> str | None:
    """The merchant a statement line's "*" marks: what follows a processor ("SQ *BLUE BOTTLE"),
    an alias ("AMZN Mktp UK*2K4RT0XY5" → "amazon"), or a merchant in capitals or a domain
    before it ("UBER *TRIP"); None when `text` has no such "*" ("Elli*tt-Garrett": noise)."""
    star = _STAR.match(text)
    if star is None:
        return None
    before, after = star.group(1).strip(), star.group(2).strip()
    if before.casefold() in _PROCESSORS:
        return after
    before = _MARKET.sub(" mktp", before)
    alias = _ALIASES.get(before.casefold())
    if alias:
        return alias
    if len(before) >= _MIN_MERCHANT_BEFORE_STAR and (
        before.isupper() or _DOMAIN.search(before) is not None
    ):
        return before
    return None


def strip_descriptor(text: str, known: Callable[[str], bool] | None = None) -> str | None:
    """The merchant named by a card-statement or till line, or None if `text` is not one.

    "SQ *BLUE BOTTLE COFFEE" → "BLUE BOTTLE COFFEE" (the processor goes), "AMZN Mktp
    UK*2K4RT0XY5" → "amazon" (the merchant is before the "*", the reference after it goes),
    "UBER *TRIP HELP.UBER.COM" → "UBER", "TRAINLINE.COM LONDON GB" → "TRAINLINE LONDON",
    "TESCO STORES 3217 LONDON" → "TESCO STORES LONDON" (store numbers and references go,
    and a trailing country code). With `known` (whether a word is, or is close to, a word of
    the suppliers' names), an upper-case line's unknown long words after the first are
    references too: "SLACK TSHXXBRUKG DUBLIN" → "SLACK DUBLIN".

    A "*" counts only after a processor, an alias, or a merchant in capitals or a domain: in
    "Rogers, Smith *nd Morgan" or "Elli*tt-Garrett" it is noise inside a name.
    """
    merchant = text.strip()
    merchant = _star_merchant(merchant) or merchant
    merchant = _DOMAIN.sub(lambda m: f" {m.group(1)} ", merchant)
    words = [word for word in merchant.split() if not _is_reference(word)]
    if known is not None and text.isupper():
        words[1:] = [
            word
            for word in words[1:]
            if not (
                word.isalnum()
                and len(word) >= _MIN_REFERENCE_CHARS
                # Normalised as the suppliers' words are: "HÅKAASSON" is close to "hakansson".
                and not any(map(known, _words(word)))
            )
        ]
    while len(words) > 1 and words[-1].casefold() in _COUNTRIES:
        words.pop()
    merchant = " ".join(words)
    if not merchant or merchant == " ".join(text.split()):
        return None
    return merchant


# ---------------------------------------------------------------------------------------------
# Scoring
#
# Constants chosen by measurement with `python -m bench.matcher_calibration` on the development
# split only (bench/eval_names.py); the held-out split was never used to choose them.

BLEND_MAX = 0.75  # the better of the character and word signals' share of the score
# A word and its plural: the same word, just below the word itself ("Colins" is closer to
# "Collins" than to "Colin" once the legal form counts).
PLURAL_SIMILARITY = 95.0
WORD_SIMILARITY = 60.0  # fuzz.ratio at which two words count as the same word misspelt
# Of the two edits `fuzz.ratio` counts for a name's one letter replaced by another, what
# `typo_ratio` gives back: one typo, as a letter dropped is, yet a little further than one
# ("Rode" is Rose, one typo, before Rhodes, two; "Gvillet" Gillet before Guillet).
LETTER_REPLACED_BACK = 0.5
EXTRA_WORD_PENALTY = 14.0  # per word one name has more than the other
# A word of each name left unpaired counts as the other garbled, as far as `fuzz.ratio` finds
# them alike, if at least this: "dos" / "rose" (57), "lhed" / "reed" (50), not "anddawson" /
# "sons" (46).
GARBLED_FLOOR = 50.0
LEGAL_FORM_CONFLICT = 0.8  # score factor: "Bartell PLC" / "Bartell GmbH"
# ... for legal forms one typo apart ("Bartell PLC" / "Bartell LLC"): milder, as likely a typo
# as another company ("Knutsson Nord,tröm HB" is Knutsson Nordström AB before Karlsson
# Nordström HB), yet below a legal form on one side only: "Bartell PLC" offers Bartell first.
LEGAL_FORM_TYPO_CONFLICT = 0.9
NUMBER_CONFLICT = 0.6  # score factor: "Twins 5" / "Twins 6"
NUMBER_ON_ONE_SIDE = 0.9  # score factor: "Twins" / "Twins 5"
LEGAL_FORM_ON_ONE_SIDE = (
    0.99  # score factor: "De Sousa" ranks below "De Sousa SA" for "De Sousa SA"
)
# Score factor: the query has a legal form its candidate lacks ("Rohe KG" is Roht KG before
# Roche); stronger than the reverse, since a name as submitted rarely gains a legal form.
LEGAL_FORM_ONLY_IN_QUERY = 0.95
LEGAL_FORM_OF_FAMILY = 0.99  # score factor: "Acme GmbH & Co. KG" ranks below "Acme KG" for it
# How close the end of a name without a legal form must be to another's legal form for the
# legal form to count in letters (a legal form mistyped, or glued on).
LEGAL_TAIL_SIMILARITY = 60.0
PREFIX_SCORE = 90.0  # a name cut short (statements truncate at 22 characters): "WILSONHODGE"
# A statement line of STATEMENT_CHARS is cut there: a name it begins scores this, less a
# tenth of a point per CUT_CHARS_PER_POINT characters it lacks (the shorter completion first).
CUT_SCORE = 100.0
CUT_CHARS_PER_POINT = 20
STATEMENT_CHARS = 22
# The same words in another order: "Karlsson Lindblom AB" / "Lindblom Karlsson AB".
SAME_WORDS_SCORE = 98.0
# One name's words, each exact and in order, within the other's one word longer: a word
# dropped or added ("Griffith and Garza" / "Griffith, Adams and Garza", "Garcia Store").
CONTAINED_SCORE = 92.0
# ... the query's words being one name's with a word added first or last ("Brown-Jones
# Services"): below a name of as many words with one of them misspelt twice ("V6rborm & de
# Bruin" is Verboom & de Bruin, not de Bruin BV with a word added).
ADDED_WORD_SCORE = 88.0
# How close each word must be for the two above to count with misspelt words, scaled down.
MISSPELT_EVIDENCE = 80.0
REORDERED_MISSPELT = 0.96  # score factor: misspelt words in another order
ACRONYM_SCORE = 90.0  # initials: "IBM" / "International Business Machines"
# ... two letters as one word ("HL"): the initials of many names, and as likely a short name
# with a typo ("^HL" is DHL, not Hill-Lutz); no closer than a letter lost from three.
SHORT_ACRONYM_SCORE = 80.0
MIN_PREFIX_CHARS = 4
MIN_PREFIX_SHARE = 0.6  # a name cut short keeps most of it
# Score factor for a merchant read out of a card-statement line: a guess, below the text itself.
DESCRIPTOR_FACTOR = 0.97
# ... and the merchant less its last word (statements end with a city): below that.
TRAILING_FACTOR = 0.95
# Score factor for a name read up to a legal form followed by one more word ("Munoz PLC
# Services" read as "Munoz PLC"): the word may mean another supplier.
LEGAL_THEN_WORD_FACTOR = 0.97
_MIN_WORDS_LEGAL_THEN_WORD = 3
# A name whose best supplier scores below LAST_WORD_BELOW is also read less its last word,
# scaled by LAST_WORD_FACTOR: a word added last ("Klapp AG Services").
LAST_WORD_BELOW = 80.0
LAST_WORD_FACTOR = 0.9
BRAND_SCORE = 92.0  # a statement line's first word is a name's first word
# The share of the plain character ratio of the names as written in a candidate's score: a
# tie-breaker between suppliers the rules score alike.
PLAIN_SHARE = 0.03
# ... and of their similarity in edits, where a letter replaced is one edit (two for the
# ratio): of names alike in ratio, the one a single typo away first ("Chodes-Brwon" is
# Rhodes-Brown, not Hodges-Brown).
EDITS_SHARE = 0.01
RULES_SHARE = 1 - PLAIN_SHARE - EDITS_SHARE  # what is left of the rules' score
# A candidate is offered when it scores at least this: close enough that someone might mean it.
OFFER_FLOOR = 50.0
# Kept for the type-ahead's fuzzy results and the labelled pairs: a close match.
THRESHOLD = 81.0
_MIN_MANGLED_LEGAL = 3  # shorter legal forms are one letter from each other: AB, AS, HB
_MIN_WORD_WEIGHT = 3  # initials and numbers weigh as much as a short word
_FILLER = frozenset({"and", "of", "the", "for"})
_MAX_ACRONYM = 6


def _scoring_words(core: str) -> list[str]:
    words = core.split()
    return [word for word in words if word != "and"] or words


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _weight(word: str) -> int:
    return max(len(word), _MIN_WORD_WEIGHT)


def word_similarity(a: str, b: str) -> float:
    """100 for the same word or its plural; `fuzz.ratio` if at least WORD_SIMILARITY; else 0.

    A typo anywhere counts, the first letter included ("Xorkery" / "Corkery").
    """
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    if (a[-1] == "s" or b[-1] == "s") and _stem(a) == _stem(b):
        return PLURAL_SIMILARITY
    similarity = typo_ratio(a, b, WORD_SIMILARITY)
    return similarity if similarity >= WORD_SIMILARITY else 0.0


def typo_ratio(a: str, b: str, score_cutoff: float | None = None) -> float:
    """`fuzz.ratio`, but two neighbouring letters swapped cost one edit, like a letter dropped,
    not two: "Meyrs" is closer to "Myers" than to "Meyer", "aVllet" to "Vallet" than to
    "Mallet". (`fuzz.ratio` counts a swap as a deletion and an insertion, as it counts a
    letter replaced, so both pairs tie there.) So does a digit in place of a letter, a letter
    misread or mistyped ("5" for "S", "0" for "O"), which a digit added seldom is: "Ste5in"
    is closer to "Stedin" than to "Stein", "1edlund" to "Hedlund" than to "Edlund". A name's
    one letter replaced by another, its only typo, costs one and a half (LETTER_REPLACED_BACK):
    one typo is closer than two ("Rode" is Rose before Rhodes), but no closer than the other
    single typos, which keep their order ("Gvillet" is Gillet before Guillet)."""
    similarity = fuzz.ratio(a, b, score_cutoff=score_cutoff)
    if 0 < similarity < 100:
        osa = OSA.distance(a, b)
        edits = Levenshtein.distance(a, b) - osa
        if not (a.isalpha() and b.isalpha()) and _DIGITS.search(a + b):
            edits += _digits_for_letters(a, b)
        if not edits and osa == 1 and _letter_for_letter(a, b):
            edits = LETTER_REPLACED_BACK
        if edits > 0:
            # Never closer than every edit costing one (a swap and a digit can be one edit
            # counted twice: "a1" / "1b"), so never 100 for two different names.
            length = len(a) + len(b)
            similarity = min(similarity + 100 * edits / length, 100 * (1 - osa / length))
    return similarity


def _letter_for_letter(a: str, b: str) -> bool:
    """Whether `a` and `b`, one edit apart, differ in one letter replaced by another."""
    if len(a) != len(b):
        return False
    x, y = next((x, y) for x, y in zip(a, b, strict=True) if x != y)
    return x.isalpha() and y.isalpha()


def _digits_for_letters(a: str, b: str) -> int:
    """How many letters of one of `a` and `b` the other has a digit in place of."""
    return sum(
        1
        for op in Levenshtein.editops(a, b)
        if op.tag == "replace"
        and a[op.src_pos].isdigit() != b[op.dest_pos].isdigit()
        and (a[op.src_pos].isalpha() or b[op.dest_pos].isalpha())
    )


def _pair_best_first(
    a_found: list[float], b_found: list[float], scored: list[tuple[float, int, int]]
) -> None:
    """Pair words `(value, i, j)` of `scored`, best first, each word at most once and only
    where its `found` is still 0, recording the value on both sides."""
    for value, i, j in sorted(scored, reverse=True):
        if value and not a_found[i] and not b_found[j]:
            a_found[i] = b_found[j] = value


def _words_score(
    a_words: list[str], b_words: list[str], similarity: Callable[[str, str], float]
) -> float:
    """How well each side's words are found in the other's, weighted by word length.

    The better direction counts, less EXTRA_WORD_PENALTY per word of difference in length, so a
    name with a word dropped stays close; it never falls below the worse direction. Words left
    unpaired on both sides are paired as far as they are alike (GARBLED_FLOOR).
    """
    # Each word is paired at most once, best pairs first: "Brown-Jones Services" does not find
    # both of "Brown, Jones and Brown"'s "brown"s in its one.
    a_found, b_found = [0.0] * len(a_words), [0.0] * len(b_words)
    _pair_best_first(
        a_found,
        b_found,
        [(similarity(a, b), i, j) for i, a in enumerate(a_words) for j, b in enumerate(b_words)],
    )
    if 0.0 in a_found and 0.0 in b_found:
        # A word of each side left over: one may be the other garbled past recognition
        # ("Escobar-Dos_" for Escobar-Rose), which a word added ("Escobar Ltd") is not.
        rest = [
            (fuzz.ratio(a, b, score_cutoff=GARBLED_FLOOR), i, j)
            for i, a in enumerate(a_words)
            if not a_found[i]
            for j, b in enumerate(b_words)
            if not b_found[j]
        ]
        _pair_best_first(a_found, b_found, rest)
    a_weights = [_weight(a) for a in a_words]
    b_weights = [_weight(b) for b in b_words]
    forward = sum(w * v for w, v in zip(a_weights, a_found, strict=True)) / sum(a_weights)
    backward = sum(w * v for w, v in zip(b_weights, b_found, strict=True)) / sum(b_weights)
    extra = EXTRA_WORD_PENALTY * abs(len(a_words) - len(b_words))
    return max(max(forward, backward) - extra, min(forward, backward))


def apply_rules(
    similarity: float,
    a_legal: str | None,
    a_numbers: tuple[str, ...],
    b_legal: str | None,
    b_numbers: tuple[str, ...],
) -> float:
    """`similarity` scaled down for a conflicting legal form and for numbers that differ."""
    if not legal_forms_compatible(a_legal, b_legal):
        one_typo = OSA.distance(a_legal, b_legal, score_cutoff=1) <= 1
        similarity *= LEGAL_FORM_TYPO_CONFLICT if one_typo else LEGAL_FORM_CONFLICT
    elif a_legal is not None and b_legal is None:
        similarity *= LEGAL_FORM_ONLY_IN_QUERY
    elif a_legal is None and b_legal is not None:
        similarity *= LEGAL_FORM_ON_ONE_SIDE
    elif a_legal != b_legal:
        similarity *= LEGAL_FORM_OF_FAMILY
    if a_numbers != b_numbers and set(a_numbers) != set(b_numbers):
        similarity *= NUMBER_CONFLICT if a_numbers and b_numbers else NUMBER_ON_ONE_SIDE
    return similarity


class _Form(NamedTuple):
    """What scoring compares of a normalised name, computed once."""

    words: tuple[str, ...]  # the core's words but "and"
    joined: str  # the core without spaces: splits, joins and typos compare alike
    spelled: str  # `NormalizedName.spelled`
    full: str  # `joined` and the legal form: a form glued on ("DillPLC") still compares
    legal: str | None
    numbers: tuple[str, ...]
    glyphs: str  # `NormalizedName.glyphs`
    glyph_core: str  # ... less the legal form


def _form(normalized: NormalizedName) -> _Form:
    core = normalized.core
    # Interned: at 100k suppliers the same surnames and trades repeat thousands of times.
    words = tuple(map(sys.intern, _scoring_words(core) if "and" in core else core.split()))
    joined = core.replace(" ", "")
    legal = normalized.legal_form
    full = joined + legal.replace(" ", "") if legal else joined
    glyphs = normalized.glyphs
    core_glyphs = _less_script_legal(glyphs) if glyphs else ""
    return _Form(
        words, joined, normalized.spelled, full, legal, normalized.numbers, glyphs, core_glyphs
    )


def _alike(a: _Form, b: _Form) -> bool:
    """Whether two names are the same but for spaces ("Green Leaf" / "Greenleaf")."""
    return a.joined == b.joined and a.legal == b.legal


def _initials(form: _Form) -> str:
    """First letters of the words but fillers: "ibm", "pg"."""
    return "".join([word[0] for word in form.words if word not in _FILLER])


def _acronym_letters(form: _Form) -> str | None:
    """The letters of a name that may be an acronym: one short word, or single letters."""
    if len(form.words) == 1:
        letters = form.joined
    elif form.words and all(len(word) == 1 for word in form.words):
        letters = _initials(form)
    else:
        return None
    return letters if 2 <= len(letters) <= _MAX_ACRONYM and letters.isalpha() else None


def _acronym_score(a: _Form, b: _Form) -> float:
    """ACRONYM_SCORE if one name is the other's initials ("IBM", "P&G" → "p and g" → "pg"),
    SHORT_ACRONYM_SCORE if they are two letters written as one word ("HL"), else 0."""
    for short, long in ((a, b), (b, a)):
        if len(long.words) >= 2:
            letters = _acronym_letters(short)
            if letters and letters == _initials(long):
                one_word = len(short.words) == 1
                return SHORT_ACRONYM_SCORE if one_word and len(letters) == 2 else ACRONYM_SCORE
    return 0.0


def _contained(short: list[str], long: list[str], *, at_ends: bool = False) -> bool:
    """Whether `short`'s 2 or more words are `long`'s, in order, with one word of `long` left
    out (`at_ends`: its first or last)."""
    if len(short) < 2 or len(long) != len(short) + 1:
        return False
    if at_ends:
        return short in (long[1:], long[:-1])
    rest = iter(long)
    return all(word in rest for word in short)


def _word_evidence(a: list[str], b: list[str]) -> float:
    """SAME_WORDS_SCORE for the same words in another order, CONTAINED_SCORE for a word of `b`
    dropped from query `a`, or one added first or last (a typo splitting a word in two adds
    one inside: "Hill ips and Sons"), else 0."""
    if len(a) >= 2 and len(a) == len(b) and sorted(a) == sorted(b):
        return SAME_WORDS_SCORE
    if _contained(a, b):
        return CONTAINED_SCORE
    if _contained(b, a, at_ends=True):
        return ADDED_WORD_SCORE
    return 0.0


def _misspelt_evidence(a: list[str], b: list[str], similar: Callable[[str, str], float]) -> float:
    """`_word_evidence` with misspelt words: query `a`'s words are `b`'s, in another order
    (SAME_WORDS_SCORE), or in order with one of `b`'s dropped (CONTAINED_SCORE), each at least
    MISSPELT_EVIDENCE similar; scaled by their mean similarity, weighted by length."""
    if len(a) < 2 or len(b) not in (len(a), len(a) + 1):
        return 0.0
    weights = [_weight(word) for word in a]
    total = sum(weights)
    best = 0.0
    if len(b) == len(a):
        # Each word of `a` with its best unused word of `b`, best pairs first.
        pairs = sorted(((similar(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b)))
        found, partner = [0.0] * len(a), [-1] * len(a)
        for value, i, j in reversed(pairs):
            if not found[i] and j not in partner and value >= MISSPELT_EVIDENCE:
                found[i], partner[i] = value, j
        if all(found):
            mean = sum(w * v for w, v in zip(weights, found, strict=True)) / total
            best = SAME_WORDS_SCORE * mean / 100
            if partner != sorted(partner):
                # Misspelt and in another order: two changes, so a name in order with a word
                # as far off comes first ("Jones-Cilon" is Jones-Wilson, not Colon-Jones).
                best *= REORDERED_MISSPELT
    else:
        for skip in range(len(b)):
            values = [similar(x, y) for x, y in zip(a, b[:skip] + b[skip + 1 :], strict=True)]
            if min(values) >= MISSPELT_EVIDENCE:
                mean = sum(w * v for w, v in zip(weights, values, strict=True)) / total
                best = max(best, CONTAINED_SCORE * mean / 100)
    return best


def _char_similarity(a: _Form, b: _Form) -> float:
    """`fuzz.ratio` of the names without spaces, and, with their legal forms, of the names
    without spaces and as spelled, unless only one name has a legal form: then the legal form
    counts only where query `a` ends much like `b`'s, mistyped or glued on ("Dill1PLC", "Erns
    mbH & Co. KG"); "Weiss Store" is no closer to "Weiss eG" than to "Weiss".

    Two names written in ideographs compare as written, with and less their legal forms
    (which the rules compare too): an ideograph replaced is one typo ("有限会社9本通信" is
    橋本通信 or 坂本通信, not 森通信), which its syllable in Latin letters ("qiao" for 橋)
    is not."""
    if a.glyphs and b.glyphs:
        return max(typo_ratio(a.glyph_core, b.glyph_core), typo_ratio(a.glyphs, b.glyphs))
    value = typo_ratio(a.joined, b.joined)
    if a.legal is not None and b.legal is None:
        return value
    if a.legal is None and b.legal is not None:
        width = len(b.legal) + 2
        if fuzz.ratio(a.spelled[-width:], b.spelled[-width:]) < LEGAL_TAIL_SIMILARITY:
            return value
    full = typo_ratio(a.full, b.full)
    if a.spelled == a.full and b.spelled == b.full:
        return max(value, full)
    return max(value, full, typo_ratio(a.spelled, b.spelled))


def _legal_split(words: tuple[str, ...], legal: str) -> list[str] | None:
    """`words` with the legal form `legal` found among them, spelled right: each of its words
    there as it is, one edit wrong (3 letters or more: "skgaa"), split in two ("kg aa"), or,
    for a one-word form, any one-word spelling of it glued to the end of a word
    (`_glued_spelling`: "klap0ag", "jonesincorporated"); None if it is not all there."""
    found = list(words)
    for part in legal.split():
        if part in found:
            continue
        for at, word in enumerate(found):
            if len(part) >= _MIN_MANGLED_LEGAL and OSA.distance(word, part, score_cutoff=1) <= 1:
                found[at] = part
                break
            if word + (found[at + 1] if at + 1 < len(found) else "") == part:
                found[at : at + 2] = [part]
                break
            glued = part == legal and _glued_spelling(word, legal)
            if glued:
                found[at : at + 1] = [word[: -len(glued)], part]
                break
        else:
            return None
    return found


def _glued_spelling(word: str, legal: str) -> str | None:
    """The spelling of the one-word legal form `legal` glued to the end of `word` after 3
    letters or more ("klap0ag", "jonesincorporated"), if any."""
    for spelling in _GLUED_SPELLINGS.get(legal, (legal,)):
        if word.endswith(spelling) and len(word) - len(spelling) >= _MIN_SPLIT:
            return spelling
    return None


_GLUED_LENGTH_SLACK = 3  # letters a run-together word may differ from its two words by


def _unglued(
    words: tuple[str, ...], other: tuple[str, ...], similar: Callable[[str, str], float]
) -> list[str] | None:
    """`words` with each word that is two neighbouring words of `other` run together and
    mistyped, split where the first of them ends ("joneskaisre" → "jones", "kaisre"); None if
    no word is."""
    if len(other) < 2:
        return None
    splits = {}
    for word in words:
        if len(word) < 2 * _MIN_SPLIT or word in other or word in splits:
            continue
        for first, second in pairwise(other):
            # Mistyped: run together as they are, the names compare alike in letters, and
            # "Leroux Online" is Leroux with a word added, not "Le Roux" with one. (Two words
            # this alike differ in length by a few letters at most.)
            if abs(len(word) - len(first) - len(second)) <= _GLUED_LENGTH_SLACK and (
                MISSPELT_EVIDENCE <= similar(word, first + second) < 100
            ):
                cut = min(len(first), len(word) - 1)
                splits[word] = (word[:cut], word[cut:])
                break
    if not splits:
        return None
    return [part for word in words for part in splits.get(word, (word,))]


def _similarity(
    a: _Form, b: _Form, similar: Callable[[str, str], float] = word_similarity, cut: bool = False
) -> float:
    """The noise-tolerant similarity of two forms, before the legal-form and number rules;
    `cut`: `a` is a statement line cut short, so a name it begins is close."""
    if not a.joined or not b.joined:
        return 0.0
    if a.joined == b.joined:
        return 100.0
    if cut and len(a.joined) >= MIN_PREFIX_CHARS:
        # "PAYPAL *GULLOTTACILIBR": words run together and cut; the shorter completion first.
        for prefix, whole in ((a.spelled, b.spelled), (a.full, b.full)):
            if whole.startswith(prefix):
                lacking = (len(whole) - len(prefix)) / CUT_CHARS_PER_POINT
                return max(CUT_SCORE - lacking, PREFIX_SCORE)
    char = _char_similarity(a, b)
    words = _words_score(list(a.words), list(b.words), similar)
    evidence = _word_evidence(list(a.words), list(b.words))
    if not evidence:
        evidence = _misspelt_evidence(list(a.words), list(b.words), similar)
    # Two words run together and mistyped: "JonesKaisre Brown" is "Jones, Kaiser and Brown".
    for x_words, y_words in (
        (_unglued(a.words, b.words, similar), list(b.words)),
        (list(a.words), _unglued(b.words, a.words, similar)),
    ):
        if x_words is not None and y_words is not None:
            words = max(words, _words_score(x_words, y_words, similar))
            evidence = max(
                evidence,
                _word_evidence(x_words, y_words) or _misspelt_evidence(x_words, y_words, similar),
            )
    for x, y in ((a, b), (b, a)):
        if x.legal is None and y.legal is not None:
            # A legal form not last: "Swanson Ltd Online" is "Swanson Ltd" with a word added;
            # or glued on: "Klap0AG Services" is "Klapp AG" with a typo and a word added. Not
            # a name that is all legal form: "INH" is ING mistyped, not any "… Inc".
            x_words = _legal_split(x.words, y.legal)
            if x_words is not None and len(x_words) > len(y.legal.split()):
                with_legal = [*y.words, *y.legal.split()]
                words = max(words, _words_score(x_words, with_legal, similar))
                evidence = max(evidence, _word_evidence(x_words, with_legal))
    value = max(char, words) * BLEND_MAX + min(char, words) * (1 - BLEND_MAX)
    value = max(value, evidence)
    # The query cut short (card statements keep 22 characters): "WILSONHODGE".
    share = len(a.joined) / len(b.joined)
    if (
        len(a.joined) >= MIN_PREFIX_CHARS
        and MIN_PREFIX_SHARE <= share < 1
        and b.joined.startswith(a.joined)
    ):
        value = max(value, PREFIX_SCORE + 10 * share - 10)
    return max(value, _acronym_score(a, b))


def _form_score(
    a: _Form, b: _Form, similar: Callable[[str, str], float] = word_similarity, cut: bool = False
) -> float:
    # A line cut short may have lost the end of its legal form ("GMBH" of "GmbH & Co. KG").
    legal = None if cut and not legal_forms_compatible(a.legal, b.legal) else a.legal
    value = apply_rules(_similarity(a, b, similar, cut), legal, a.numbers, b.legal, b.numbers)
    if legal is None and b.legal and len(a.words) >= 2 and _mangled(a.words[-1], b.legal):
        # "Santiago PZC", "Spence Ldt": `b`'s legal form with a typo.
        core = " ".join(a.words[:-1])
        fixed = _form(NormalizedName(core, b.legal, a.numbers, a.spelled))
        value = max(value, _similarity(fixed, b, similar))
    return value


def _mangled(word: str, legal: str) -> bool:
    """Whether `word` is the legal form `legal` (3 letters or more) with one edit."""
    spelled = legal.replace(" ", "")
    return (
        len(spelled) >= _MIN_MANGLED_LEGAL
        and word != spelled
        and OSA.distance(word, spelled, score_cutoff=1) <= 1
    )


def score(a: NormalizedName, b: NormalizedName) -> float:
    """How likely two normalised names are the same supplier, 0..100.

    Combines, by measurement: a character-level ratio of the names without spaces (a typo in
    any letter, split or joined words, a legal form glued on), word alignment (each side's
    words found in the other's, tolerating a misspelt word, a dropped or an added one), a
    name cut short, and initials; then scales down for conflicting legal forms and numbers.
    """
    if not a.core or not b.core:
        return 0.0
    return _form_score(_form(a), _form(b))


def with_plain(value: float, query: str, name: str) -> float:
    """A `score` of `query` against `name` with a little (PLAIN_SHARE) of the plain character
    ratio of the two as written: of suppliers the rules find alike ("Ruiz Pires SARL" and
    "Ruiz Brun SA" for a line starting "RUIZ", 合同会社 and 株式会社 for a mistyped 株式0社),
    the closer in letters ranks first; and a little less (EDITS_SHARE) of their similarity in
    edits, so of names alike in ratio the one fewer typos away comes first.

    The same name (normalised alike but for spaces) stays 100; a name the rules find as sure
    but that is not the same ("Acme SASL" is Acme SAS or Acme SARL, a legal form with one
    typo) is ranked by letters too, first compared without spaces."""
    return _with_plain(value, _plain(query), name, _form(normalize(query)), _form(normalize(name)))


def _plain(query: str) -> str:
    """`query` as `with_plain` compares it: processed once per lookup, not per candidate."""
    return default_process(query[:MAX_NAME_CHARS])


@cache
def _marked(ch: str) -> bool:
    """Whether `ch` is a Latin letter with a mark ("ö", "é", "ł", "ß"): what few type by
    accident, though many leave it out."""
    if ch.isascii() or not ch.isalpha():
        return False
    latin = "".join(map(_latin_char, unicodedata.normalize("NFKD", ch)))
    return latin.isascii() and latin.isalpha()


def _marks_missing(plain_query: str, name: str) -> float:
    """Score factor for the query's marked letters that `name` lacks ("Pöwer" / "Powers"):
    each counts as a letter of the query replaced, as in `fuzz.ratio` of the names as
    written; a name lacking its own marks is no less close ("Muller" / "Müller")."""
    missing = sum(1 for ch in plain_query if _marked(ch) and ch not in name)
    if not missing:
        return 1.0
    return 1.0 - missing / len(plain_query.replace(" ", ""))


def _with_plain(value: float, plain_query: str, name: str, query: _Form, form: _Form) -> float:
    """`with_plain`, given the query as `_plain` processed it and both names' forms."""
    name = default_process(name)
    if query.joined != form.joined and not plain_query.isascii():
        value *= _marks_missing(plain_query, name)
    if value >= 100.0:
        if _alike(query, form):
            return value
        # As sure as the same name, but not it ("Lemaître S..AR..." is S.A.R.L. or S.A.S.,
        # its legal form one typo from each): first compared in letters as the rules compare
        # names, without spaces, which the noise in such a name disturbs more than its letters.
        letters = fuzz.ratio(plain_query.replace(" ", ""), name.replace(" ", ""))
        value -= (100.0 - letters) * PLAIN_SHARE
    plain = fuzz.ratio(plain_query, name)
    edits = 100 * OSA.normalized_similarity(plain_query, name)
    return value * RULES_SHARE + plain * PLAIN_SHARE + edits * EDITS_SHARE


def _pairs_shared(query_pairs: Counter[str], name: str) -> float:
    """How many of their neighbouring letter pairs two names share (Dice coefficient over the
    pairs, counted with repeats), the query as `_plain` processed it: what decides between
    suppliers every other measure finds exactly as close. One typo leaves more of a name's
    pairs when it drops a doubled letter ("Tan AB" is Tann AB, not Tain AB; "ОО «Евсеева»"
    ООО, not ОАО) or letters beside each other ("Grupo Madr" keeps "ma", "ad", "dr" of
    Madrid, two of Amador's). `query_pairs`: `_letter_pairs` of the query as `_plain`
    processed it."""  # noqa: RUF002 - Cyrillic on purpose
    theirs = _letter_pairs(default_process(name))
    total = query_pairs.total() + theirs.total()
    return 2 * (query_pairs & theirs).total() / total if total else 0.0


def _letter_pairs(text: str) -> Counter[str]:
    return Counter(map("".join, pairwise(text)))


class QueryForm(NamedTuple):
    """One reading of a looked-up name: its fields, the factor its scores are scaled by, and
    whether it is a statement line cut at STATEMENT_CHARS."""

    normalized: NormalizedName
    factor: float
    cut: bool
    # A reading that only makes sense of the name through its legal form ("Munoz PLC" of
    # "Munoz PLC Services"): it scores only suppliers with a legal form.
    legal: bool = False


def query_forms(name: str, known: Callable[[str], bool] | None = None) -> list[QueryForm]:
    """`name` normalised, and other readings of it, each scaled by a factor:

    * a legal form written before one more word ("Munoz PLC Services", "Acme GmbH Berlin"):
      the name up to its legal form (LEGAL_THEN_WORD_FACTOR);
    * a legal form in CJK script one character wrong, or broken by punctuation ("株式0社",
      "有限会", "株式^会社"): the name with that legal form (`_script_legal_readings`);
    * the name less the noise inside its words (`squeezed`: "Whit^akerLLC");
    * a card-statement line (in capitals, or with a "*" or a domain): the merchant it names
      (DESCRIPTOR_FACTOR), and that merchant less its last word (TRAILING_FACTOR: a city, a
      word cut short); any other name less a trailing country code ("Hofmann UK",
      DESCRIPTOR_FACTOR). `known`: see `strip_descriptor`.
    """
    plain = normalize(name)
    readings: list[QueryForm] = [QueryForm(plain, 1.0, False)]
    repaired = squeezed(name)
    if repaired is not None:
        readings.append(QueryForm(normalize(repaired), 1.0, False))
    if plain.legal_form is None:
        words = _words(name)
        if len(words) >= _MIN_WORDS_LEGAL_THEN_WORD and len(words[-1]) >= _MIN_SPLIT:
            up_to_legal = _from_words(words[:-1])
            if up_to_legal.legal_form is not None:
                readings.append(QueryForm(up_to_legal, LEGAL_THEN_WORD_FACTOR, False, legal=True))
        readings += (
            QueryForm(normalize(text), 1.0, False) for text in _script_legal_readings(name)
        )
    # A statement line is printed in capitals, or has a processor's "*" or a domain; any other
    # name ("Unit 645 Tree Surgery Ltd", "Cherry-Rsuh UK", "Morse-Leo* UK" with a stray "*")
    # is only read less a trailing country code: its last word is no city, nor its number a
    # store's.
    if name.isupper() or _star_merchant(name) is not None or _DOMAIN.search(name) is not None:
        merchant = strip_descriptor(name, known)
        if merchant is not None:
            words = _words(merchant)
            cut = len(name) == STATEMENT_CHARS
            readings.append(QueryForm(_from_words(words), DESCRIPTOR_FACTOR, cut))
            readings.append(QueryForm(_from_words(words[:-1]), TRAILING_FACTOR, False))
    else:
        without = _less_country(name)
        if without is not None:
            readings.append(QueryForm(normalize(without), DESCRIPTOR_FACTOR, False))
    forms: list[QueryForm] = []
    seen: set[NormalizedName] = set()
    for reading in readings:
        if reading.normalized.core and reading.normalized not in seen:
            seen.add(reading.normalized)
            forms.append(reading)
    return forms


# Noise inside a word: control and invisible characters, and punctuation but "-", "&" and "/",
# between two letters or digits ("Whit^aker", "We\x07ber", "Har.tman", "San,ford").
_INSIDE_NOISE = re.compile(
    r"(?<=[^\W_])(?:[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff]|[_.,^'`~*;:!?\"|])+(?=[^\W_])"
)


def squeezed(name: str) -> str | None:
    """`name` less what reads as noise inside a word (`_INSIDE_NOISE`: "Whit^akerLLC" →
    "WhitakerLLC", "CharpentierS.A.S." → "CharpentierSAS"), or None if it has none. A reading
    only: normalisation (and so exact lookups and learnt rules) keeps such characters as word
    breaks, since "Smith,Jones" may be two words."""
    text = name[:MAX_NAME_CHARS]
    repaired = _INSIDE_NOISE.sub("", text)
    return repaired if repaired != text else None


def _less_last_word(name: str, vocabulary: Container[str]) -> NormalizedName | None:
    """`name` normalised less its last word, if it has two words or more and no legal form,
    the last word is in `vocabulary`, and what is left is no mere initials; its numbers stay,
    the dropped word's included (a number dropped still differs)."""
    words = _words(name)
    if len(words) < 2 or words[-1] not in vocabulary:
        return None
    whole, shorter = _from_words(words), _from_words(words[:-1])
    if whole.legal_form or len(shorter.core.replace(" ", "")) < MIN_PREFIX_CHARS:
        return None
    return NormalizedName(shorter.core, shorter.legal_form, whole.numbers, shorter.spelled)


_SCRIPT_FORMS = (
    ("股份有限公司", "co ltd"),
    ("有限责任公司", "co ltd"),
    ("有限公司", "co ltd"),
    ("株式会社", "kk"),
    ("有限会社", "yk"),
    ("合同会社", "gk"),
)
_MAX_SCRIPT_READINGS = 4


def _script_legal_readings(name: str) -> list[str]:
    """`name` with a CJK legal form found one character wrong, missing or extra, or broken by
    punctuation or a control character, moved last in Latin spelling: "株式0社遠藤電気" →
    "遠藤電気 kk". Each place it may be is a reading (a few at most)."""
    if not any(unicodedata.east_asian_width(ch) in "WF" for ch in name):
        return []
    letters = "".join(ch for ch in name[:MAX_NAME_CHARS] if ch.isalnum())
    readings: list[str] = []
    for form, canonical in _SCRIPT_FORMS:
        if form in name:  # written right: the plain reading has it
            return []
        size = len(form)
        for width in (size, size - 1, size + 1):
            for at in range(len(letters) - width + 1):
                window = letters[at : at + width]
                if Levenshtein.distance(window, form, score_cutoff=1) <= 1:
                    readings.append(f"{letters[:at]} {letters[at + width :]} {canonical}")
    return list(dict.fromkeys(readings))[:_MAX_SCRIPT_READINGS]


# ---------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True)
class Candidate:
    """A supplier offered for a name: its remote id, its name as the provider has it, a score."""

    supplier_id: str
    name: str
    score: float


# Scores of `search` results, by how the typed text was found; fuzzy matches score below.
_SEARCH_EXACT, _SEARCH_PREFIX, _SEARCH_WORD_PREFIX, _SEARCH_SUBSTRING = 100.0, 90.0, 80.0, 70.0
_SEARCH_FUZZY_FACTOR = 0.6
_SEARCH_MIN_FUZZY_CHARS = 3
_SEARCH_SCAN_PER_RESULT = 20  # how many text hits per wanted result a search looks at, at most

# Candidate generation (see `SupplierIndex`), chosen by measurement like the scoring constants.
RESCORE = 24  # how many shortlisted suppliers are scored in full
POSTINGS_BUDGET = 4_000  # suppliers gathered through the query's rarest words, at most
COMMON_BUDGET = 40_000  # postings of commoner words checked against those, at most
FALLBACK_BELOW = 60.0  # when the best shortlisted supplier scores less, every name is compared
FALLBACK_CUTOFF = 75.0  # in characters, keeping those at least this close
# ... and when not one supplier scores OFFER_FLOOR, the closest whatever their ratio: the
# prompt always offers the closest suppliers ("IFM" for IFF, "Ott3 Trading" for Otto), this many.
CLOSEST_WHEN_NOTHING = 3
SHORTLIST_SIMILARITY = 75.0  # how close an indexed word must be to gather its suppliers
# A query word with no indexed word this close (one typo in five letters) is one nothing was
# found for: the closest in characters of the suppliers of its name's commonest word are scored.
KNOWN_WORD_SIMILARITY = 80.0
_MIN_DELETE_LENGTH = 3  # shorter words are looked up as they are ("sk" finds "vsk")
_MIN_TWICE_DELETED = 5  # shorter words are looked up less one letter, not two
_PREFIX_CANDIDATES = 20  # suppliers whose name starts with a name cut short, at most
_ACRONYM_CANDIDATES = 20  # suppliers whose initials a short query is, at most


_MIN_SPLIT = 3  # the shortest part a run-together word is split into
_GLUED_LEGAL = tuple(spelling[0] for spelling in _LEGAL_FORMS if len(spelling) == 1)


# Character trigram postings (`_Trigrams`): a typo anywhere, even two in one word, leaves most
# of a name's trigrams, so the names sharing the most with the query are close whatever letter
# the typos hit.
TRIGRAM_CANDIDATES = 48  # names sharing the most trigrams with the query, compared in letters
TRIGRAM_RESCORE = 8  # ... and the closest in letters of those, scored in full,
TRIGRAM_CUTOFF = 70.0  # if at least this close (`fuzz.ratio`)
TRIGRAM_MIN_SHARE = 4  # a name must share a quarter of the query's trigrams to be ranked
TRIGRAM_COMMON = 0.05  # a trigram in more than this share of the names is not looked up
_TRIGRAM_LETTERS = b"abcdefghijklmnopqrstuvwxyz0123456789"
_TRIGRAM_BASE = len(_TRIGRAM_LETTERS) + 2  # 0 ends a name, the last code any other character
_TRIGRAM_CODES = numpy.full(256, _TRIGRAM_BASE - 1, dtype=numpy.uint16)
_TRIGRAM_CODES[0] = 0
_TRIGRAM_CODES[numpy.frombuffer(_TRIGRAM_LETTERS, dtype=numpy.uint8)] = numpy.arange(
    1, len(_TRIGRAM_LETTERS) + 1, dtype=numpy.uint16
)


def _trigram_codes(letters: numpy.ndarray) -> numpy.ndarray:
    """Each trigram of a run of character codes as one number below _TRIGRAM_BASE ** 3 (which
    is below 2 ** 16: uint16 throughout)."""
    return (letters[:-2] * _TRIGRAM_BASE + letters[1:-1]) * _TRIGRAM_BASE + letters[2:]


class _Trigrams:
    """Which names hold each character trigram, as arrays (numpy): built in one pass in C, and
    a lookup counts the trigrams each name shares with the query with one `bincount`."""

    def __init__(self, keys: list[str]) -> None:
        # One character, one byte ("?" for any other): a name's trigrams start at its offsets.
        text = "\0".join(keys).encode("ascii", "replace") + b"\0"
        letters = _TRIGRAM_CODES[numpy.frombuffer(text, numpy.uint8)]
        del text
        codes = _trigram_codes(letters)
        # A trigram across the end of a name is none of its.
        whole = (letters[:-2] != 0) & (letters[1:-1] != 0) & (letters[2:] != 0)
        del letters
        lengths = numpy.fromiter(map(len, keys), dtype=numpy.int32, count=len(keys))
        owners = numpy.repeat(numpy.arange(len(keys), dtype=numpy.int32), lengths + 1)[:-2]
        owners = owners[whole]
        codes = codes[whole]
        del whole
        # uint16 codes: numpy sorts them by radix, stably, so each trigram's names stay in order.
        self._entries = owners[numpy.argsort(codes, kind="stable")]
        del owners
        counts = numpy.bincount(codes, minlength=_TRIGRAM_BASE**3)
        self._offsets = numpy.concatenate(([0], numpy.cumsum(counts)))
        self._sizes = numpy.maximum(lengths - 2, 1)
        self._common = max(int(len(keys) * TRIGRAM_COMMON), 1)

    def closest(self, key: str, limit: int) -> list[int]:
        """The `limit` names sharing the largest share of their and `key`'s trigrams (Jaccard),
        best first; trigrams in more than TRIGRAM_COMMON of the names are not counted."""
        letters = _TRIGRAM_CODES[numpy.frombuffer(key.encode("ascii", "replace"), numpy.uint8)]
        codes = numpy.unique(_trigram_codes(letters)) if len(letters) >= 3 else ()
        offsets, entries = self._offsets, self._entries
        found = []
        for code in codes:
            start, end = offsets[code], offsets[code + 1]
            if 0 < end - start <= self._common:
                found.append(entries[start:end])
        if not found:
            return []
        shared = numpy.bincount(numpy.concatenate(found), minlength=len(self._sizes))
        # Only names sharing a fair part of the query's trigrams are ranked: three typos in a
        # name of 15 letters leave a third of its 13.
        near = numpy.flatnonzero(shared >= max(len(codes) // TRIGRAM_MIN_SHARE, 1))
        if not len(near):
            return []
        held = shared[near]
        share = held / (len(codes) + self._sizes[near] - held)
        if len(near) > limit:
            best = numpy.argpartition(-share, limit - 1)[:limit]
            near, share = near[best], share[best]
        return near[numpy.argsort(-share, kind="stable")].tolist()


_EMPTY_TRIGRAMS = _Trigrams([])


def _deletes(word: str) -> set[str]:
    """`word` with one character deleted, each way."""
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _weigh(weights: dict[int, float], entries: Iterable[int], weight: float) -> None:
    """Raise each of `entries`' weight in `weights` to `weight` if it is lower."""
    if not weights:  # a group's first word, most often its only one: in C
        weights.update(dict.fromkeys(entries, weight))
        return
    get = weights.get
    for entry in entries:
        if get(entry, 0.0) < weight:
            weights[entry] = weight


def _pairs(words: tuple[str, ...]) -> list[str]:
    """Neighbouring words joined: "co mier" → "comier", for names split or joined apart."""
    return [a + b for a, b in pairwise(words)]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: building an index makes millions of objects and no
    reference cycle, and each collection it would trigger walks the whole process's heap (13 %
    of a 100k-supplier build beside another such index)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class SupplierIndex:
    """A connection's active suppliers, normalised once, for exact, fuzzy and type-ahead lookups.

    Immutable after `build`: concurrent readers need no lock. Per-entry data sits in parallel
    lists indexed by entry number.

    A fuzzy lookup never scores every supplier. It finds the words of the index close to each of
    the query's words, and to each pair of neighbouring query words joined, whatever letter the
    typo hit: every indexed word is also stored under each of its one-letter deletions
    (`_variants`), and the query's words are looked up with up to two letters deleted, so a
    substitution, an insertion, a deletion or a swap of neighbours anywhere is found; words run
    together are split where one side is a known word or a legal form (`_parts`). The suppliers
    holding the rarest of those words (`_postings`, up to POSTINGS_BUDGET of them) are weighed,
    each query word (with its parts) counting once per supplier, by its indexed word's rarity
    (the log of the suppliers over the word's) times its closeness; commoner words add their
    weight to those suppliers only. The RESCORE weighing most, the RESCORE closest in
    characters among them, those equal but for spaces (`_by_joined`) or equal to the query
    less its first or last words (a word added), those whose name starts with the query (a
    statement cut at 22 characters) and those whose initials the query is are then scored in
    full, with the TRIGRAM_RESCORE closest in characters of the TRIGRAM_CANDIDATES names sharing
    the largest share of character trigrams with the query (`_Trigrams`): they find a word with
    two typos ("Molanov" for Molchanov), which no one-letter deletion reaches; and when a query
    word is close to no indexed word (KNOWN_WORD_SIMILARITY) while a commoner word's suppliers
    were too many to gather, the TRIGRAM_RESCORE closest in characters of those ("Balec Group"
    for Bailey Group, among thousands of "… Group"). When none of them scores FALLBACK_BELOW,
    every name is compared in characters (rapidfuzz, in C).
    """

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._names: list[str] = []
        self._cores: list[str] = []
        self._legal: list[str | None] = []
        self._forms: list[_Form] = []
        self._fulls: list[str] = []  # each entry's `_Form.full`
        self._spelled: list[str] = []  # each entry's `_Form.spelled`
        self._position: dict[str, int] = {}  # supplier id -> entry
        self._by_joined: dict[str, list[int]] = {}  # core without spaces -> entries
        self._by_initials: dict[str, list[int]] = {}  # initials of 2+ words -> entries
        self._postings: dict[str, list[int]] = {}  # word or joined word pair -> entries
        # word or one-letter deletion -> the word, or a list of words
        self._variants: dict[str, str | list[str]] = {}
        self._joined_keys: list[str] = []  # sorted cores without spaces, for prefixes
        self._joined_entries: list[int] = []
        self._search_keys: list[str] = []  # sorted normalised full names
        self._search_entries: list[int] = []  # the entry of each search key
        self._blob = ""  # the search keys joined with "\n", for substring search
        self._starts: list[int] = []  # offset of each search key in the blob
        self._trigrams = _EMPTY_TRIGRAMS  # of each entry's `_Form.full`

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, suppliers: Iterable[tuple[str, str]]) -> SupplierIndex:
        """Index `(supplier_id, name)` of active suppliers; a repeated id keeps its last name."""
        latest = dict(suppliers)
        index = cls()
        postings = index._postings
        with _no_cycle_collection():
            for supplier_id, name in latest.items():
                entry = index._add_entry(supplier_id, name, normalize(name), shared=False)
                for token in index._tokens(entry):
                    postings.setdefault(token, []).append(entry)
            variants = index._variants
            for word in {word for form in index._forms for word in form.words}:
                index._add_variants(variants, word)
            index._build_sorted()
        return index

    @staticmethod
    def _add_variants(variants: dict[str, str | list[str]], word: str, copy: bool = False) -> None:
        """File `word` under itself and its one-letter deletions (most keys hold one word: a
        string, not a list, saves memory at 100k suppliers)."""
        keys = _deletes(word) if len(word) >= _MIN_DELETE_LENGTH else set()
        keys.add(word)
        for key in keys:
            held = variants.get(key)
            if held is None:
                variants[key] = word
            elif isinstance(held, str):
                if held != word:
                    variants[key] = [held, word]
            elif word not in held:
                if copy:  # shared with the index this one came from
                    variants[key] = [*held, word]
                else:
                    held.append(word)

    def _add_entry(
        self, supplier_id: str, name: str, normalized: NormalizedName, shared: bool = True
    ) -> int:
        """Add one supplier; `shared`: its lists of entries are shared with another index, so
        they are copied, never appended to."""
        entry = len(self._ids)
        form = _form(normalized)
        self._ids.append(supplier_id)
        self._names.append(name)
        self._cores.append(normalized.core)
        self._legal.append(normalized.legal_form)
        self._forms.append(form)
        self._fulls.append(form.full)
        self._spelled.append(form.spelled)
        self._position[supplier_id] = entry
        keys = []
        if normalized.core:
            keys.append((self._by_joined, form.joined))
        if len(form.words) >= 2:
            initials = _initials(form)
            if 2 <= len(initials) <= _MAX_ACRONYM:
                keys.append((self._by_initials, initials))
        for lists, key in keys:
            if shared:
                lists[key] = [*lists.get(key, ()), entry]
            else:
                lists.setdefault(key, []).append(entry)
        return entry

    def _tokens(self, entry: int) -> set[str]:
        return set(self._forms[entry].words)

    def _build_sorted(self) -> None:
        ordered = sorted(
            zip(
                (form.spelled for form in self._forms),
                self._names,
                range(len(self._forms)),
                strict=True,
            )
        )
        self._search_entries = [entry for _, _, entry in ordered]
        self._search_keys = [key for key, _, _ in ordered]
        self._blob = "\n".join(self._search_keys)
        self._starts = list(accumulate((len(key) + 1 for key in self._search_keys), initial=0))
        joined = [form.joined for form in self._forms]
        self._joined_entries = sorted(range(len(joined)), key=joined.__getitem__)
        self._joined_keys = [joined[entry] for entry in self._joined_entries]
        self._trigrams = _Trigrams(self._fulls)

    def with_supplier(self, supplier_id: str, name: str) -> SupplierIndex:
        """A new index with one more supplier (a just-created one); this index is unchanged."""
        if supplier_id in self._position:
            return SupplierIndex.build(
                [*zip(self._ids, self._names, strict=True), (supplier_id, name)]
            )
        new = SupplierIndex()
        for attribute, value in vars(self).items():
            copied = value.copy() if isinstance(value, list | dict) else value
            setattr(new, attribute, copied)
        entry = new._add_entry(supplier_id, name, normalize(name))
        # New lists, never appends: the lists are shared with this index.
        for token in new._tokens(entry):
            new._postings[token] = [*new._postings.get(token, ()), entry]
        for word in set(new._forms[entry].words):
            SupplierIndex._add_variants(new._variants, word, copy=True)
        new._build_sorted()
        return new

    def __len__(self) -> int:
        return len(self._ids)

    # -- lookups -------------------------------------------------------------------------------

    def _candidate(self, entry: int, score: float) -> Candidate:
        return Candidate(self._ids[entry], self._names[entry], score)

    def _ranked(
        self, scored: Iterable[tuple[int, float]], limit: int, query: str | None = None
    ) -> list[Candidate]:
        """`scored` best first, ties by name; given the `query` as `_plain` processed it,
        suppliers that score exactly alike are first ordered by the letter pairs they share
        with it (`_pairs_shared`)."""
        names, ids = self._names, self._ids
        scored = list(scored)
        tied: set[float] = set()
        if query is not None:
            seen: set[float] = set()
            for _, value in scored:
                (tied if value in seen else seen).add(value)

        query_pairs = _letter_pairs(query) if tied else Counter()  # once, not per name

        def key(item: tuple[int, float]) -> tuple[float, float, str, str, str]:
            entry, value = item
            shared = _pairs_shared(query_pairs, names[entry]) if value in tied else 0.0
            return (-value, -shared, names[entry].casefold(), names[entry], ids[entry])

        best = sorted(scored, key=key)
        return [self._candidate(entry, score) for entry, score in best[: max(limit, 0)]]

    def exact(self, name: str) -> Candidate | None:
        """The supplier whose normalised name equals `name`'s with a compatible legal form.

        Several such suppliers make it ambiguous (None), unless they share one legal form:
        then they are duplicates in the accounting software and the first by name is taken.
        The same legal form beats the same family, which beats a missing one: "Acme Ltd" is
        "Acme Limited" even though "Acme" is listed too.
        """
        query = normalize(name)
        if not query.core:
            return None
        tiers: dict[int, list[int]] = {}
        for entry in self._by_joined.get(query.core.replace(" ", ""), ()):
            if self._cores[entry] != query.core:
                continue
            legal = self._legal[entry]
            if legal == query.legal_form:
                tiers.setdefault(0, []).append(entry)
            elif legal is not None and query.legal_form is not None:
                if legal_forms_compatible(legal, query.legal_form):
                    tiers.setdefault(1, []).append(entry)
            else:
                tiers.setdefault(2, []).append(entry)
        if not tiers:
            return None
        entries = tiers[min(tiers)]
        if len({self._legal[entry] for entry in entries}) > 1:
            return None
        return self._ranked(((entry, 100.0) for entry in entries), 1)[0]

    def candidates(
        self, name: str, *, limit: int = 13, floor: float = OFFER_FLOOR
    ) -> list[Candidate]:
        """The suppliers closest to `name`, best first (ties by name), scoring at least `floor`;
        if none does, the CLOSEST_WHEN_NOTHING closest all the same.

        A card-statement line is also looked up as the merchant it names (`strip_descriptor`).
        """
        scores, query = self._scores(name), _plain(name)
        offered = self._ranked(
            ((entry, value) for entry, value in scores.items() if value >= floor), limit, query
        )
        if offered or limit <= 0:
            return offered
        # Not one supplier close enough to mean: the prompt still offers the closest few, best
        # first, so whoever answers can pick one (or create the supplier). `_scores` has
        # compared every name in letters for such a name and kept the closest.
        return self._ranked(scores.items(), min(limit, CLOSEST_WHEN_NOTHING), query)

    def _scores(self, name: str) -> dict[int, float]:
        """Shortlisted suppliers' `score` against `name` (the best of its `query_forms`)."""
        best: dict[int, float] = {}
        cache: dict[tuple[str, str], float] = {}

        def similarity(a: str, b: str) -> float:
            # The same words meet again and again across the shortlist: computed once.
            value = cache.get((a, b))
            if value is None:
                value = cache[a, b] = word_similarity(a, b)
            return value

        def add(
            query: _Form,
            entries: Iterable[int],
            factor: float,
            cut: bool = False,
            legal: bool = False,
        ) -> None:
            forms = self._forms
            brand = query.words[0] if factor != 1.0 and len(query.words[0]) >= 4 else None
            for entry in entries:
                form = forms[entry]
                if legal and form.legal is None:
                    continue
                value = _form_score(query, form, similarity, cut)
                if brand and form.words and form.words[0] == brand:
                    # A statement line starts with the merchant's brand: "ADOBE *CREATIVE
                    # CLOUD" is Adobe Systems Software Ireland Ltd.
                    value = max(value, BRAND_SCORE)
                value *= factor
                if value > best.get(entry, -1.0):
                    best[entry] = value

        readings = query_forms(name, self._known)
        queries = [_form(reading.normalized) for reading in readings]
        for query, reading in zip(queries, readings, strict=True):
            add(query, self._shortlist(query), reading.factor, reading.cut, reading.legal)
        plain_only = all(reading.factor == 1.0 for reading in readings)
        if plain_only and max(best.values(), default=0.0) < LAST_WORD_BELOW:
            # Nothing sure: the name may carry one word more than any supplier's, last ("Klapp
            # AG Services", "NavoneGroup Trading"); the name less that word is a reading too
            # when that word is one of the suppliers' words as it is (a misspelt word of the
            # name is no word added: "Torpy Xrkry" stays Torphy-Corkery, not Torphy PLC).
            shorter = _less_last_word(squeezed(name) or name, self._postings)
            if shorter is not None:
                query = _form(shorter)
                add(query, self._shortlist(query), LAST_WORD_FACTOR)
                queries.append(query)
        top = max(best.values(), default=0.0)
        if queries and top < FALLBACK_BELOW:
            # Nothing close through the words (two typos in one word, a word broken in
            # three): the names closest in characters, all of them compared, in C. Unless the
            # best is sure to reach OFFER_FLOOR whatever `with_plain` adds, the closest are
            # kept however far, for `candidates` to offer.
            offered = top * RULES_SHARE >= OFFER_FLOOR
            closest = process.extract(
                queries[0].full,
                self._fulls,
                scorer=fuzz.ratio,
                processor=None,
                limit=RESCORE,
                score_cutoff=FALLBACK_CUTOFF if offered else None,
            )
            add(queries[0], (entry for _, _, entry in closest), 1.0)
        names, forms = self._names, self._forms
        plain, same = _plain(name), _form(normalize(name))
        return {
            entry: _with_plain(value, plain, names[entry], same, forms[entry])
            for entry, value in best.items()
        }

    def _known(self, word: str) -> bool:
        """Whether `word` is, or is close to, a word of the suppliers' names."""
        return any(self._similar(word).values())

    def _similar(self, token: str) -> dict[str, float]:
        """Indexed words within a few typos of `token`, with their `word_similarity`."""
        keys = {token}
        if len(token) >= _MIN_DELETE_LENGTH:
            once = _deletes(token)
            keys |= once
            if len(token) >= _MIN_TWICE_DELETED:
                for variant in once:
                    keys |= _deletes(variant)
        variants = self._variants
        found: set[str] = set()
        for key in keys:
            words = variants.get(key)
            if words is None:
                continue
            if isinstance(words, str):
                found.add(words)
            else:
                found.update(words)
        similar = {}
        for word in found:
            value = word_similarity(token, word)
            if value:
                similar[word] = value
        return similar

    def _parts(self, word: str) -> list[str]:
        """The parts of a word run together: "clarkwilmiams" → "clark", "wilmiams"; "scottllc"
        → "scott". A split counts where one side is an indexed word or a legal form."""
        variants = self._variants
        if len(word) < 2 * _MIN_SPLIT or word in variants:
            return []
        parts = []
        for at in range(_MIN_SPLIT, len(word) - _MIN_SPLIT + 1):
            left, right = word[:at], word[at:]
            if left in variants or right in variants:
                parts += (left, right)
        for spelling in _GLUED_LEGAL:
            if word.endswith(spelling) and len(word) - len(spelling) >= _MIN_SPLIT:
                parts.append(word[: -len(spelling)])
        return parts

    def _closest_in_letters(
        self, query: _Form, entries: list[int], limit: int, cutoff: float | None = None
    ) -> list[int]:
        """The `limit` of `entries` whose names are closest to `query`'s in characters
        (`fuzz.ratio` without spaces, legal form included), if at least `cutoff`."""
        fulls = self._fulls
        names = itemgetter(*entries)(fulls) if len(entries) > 1 else [fulls[e] for e in entries]
        closest = process.extract(
            query.full, names, scorer=fuzz.ratio, processor=None, limit=limit, score_cutoff=cutoff
        )
        return [entries[position] for _, _, position in closest]

    def _shortlist(self, query: _Form) -> set[int]:
        """The suppliers worth scoring in full for `query` (see the class docstring)."""
        postings = self._postings
        # One group of tokens per query word (the word and its parts, if it is words run
        # together) and per pair of neighbouring words joined: a group counts once per
        # supplier, through its best indexed word.
        groups = [(word, *self._parts(word)) for word in set(query.words)]
        unknown = False  # a query word no indexed word is close to
        word_groups = len(groups)
        groups += [(pair,) for pair in _pairs(query.words)]
        found = []
        for group, tokens in enumerate(groups):
            similar: dict[str, float] = {}
            for token in tokens:
                for word, value in self._similar(token).items():
                    if value >= SHORTLIST_SIMILARITY and value > similar.get(word, 0.0):
                        similar[word] = value
            found += ((len(postings[word]), word, value, group) for word, value in similar.items())
            if group < word_groups and max(similar.values(), default=0.0) < KNOWN_WORD_SIMILARITY:
                unknown = True
        # The rarest words' suppliers are gathered, up to POSTINGS_BUDGET of them (always the
        # rarest word's), and weighed: a word held by few suppliers says more than a common
        # one ("haneberg" than "royal" or "berg"), a close word more than a far one, so a
        # supplier found through more, rarer and closer words comes first.
        found.sort()
        total = len(self._ids) + 1
        by_group: list[dict[int, float]] = [{} for _ in groups]
        gathered = 0
        common = len(found)
        for at, (size, word, value, group) in enumerate(found):
            if gathered and gathered + size > POSTINGS_BUDGET:
                common = at
                break
            gathered += size
            _weigh(by_group[group], postings[word], log(total / size) * value / 100)
        # The commoner words still count for the suppliers gathered ("group" of "Reese
        # Group"), through set intersections in C, up to COMMON_BUDGET postings.
        held = set().union(*by_group)
        budget = COMMON_BUDGET
        for size, word, value, group in found[common:]:
            budget -= size
            if budget < 0:
                break
            weight = log(total / size) * value / 100
            _weigh(by_group[group], held.intersection(postings[word]), weight)
        by_group.sort(key=len)
        weights = by_group.pop() if by_group else {}
        get = weights.get
        for weighed in by_group:
            for entry, weight in weighed.items():
                weights[entry] = get(entry, 0.0) + weight
        shortlist = set(nlargest(RESCORE, weights, key=weights.__getitem__))
        if len(weights) > RESCORE:
            # Many suppliers share the words found (at 100k, a surname's hundreds of names):
            # the closest in characters, legal form and common words included, are scored too.
            shortlist.update(self._closest_in_letters(query, list(weights), RESCORE))
        if unknown and common < len(found):
            # A word two typos from its supplier's ("Balec" for Bailey) finds nothing, and the
            # word left ("group") has too many suppliers to gather: the closest in characters
            # of the suppliers of the query's own word, or of the word closest to it.
            size, word, _, _ = max(found[common:], key=lambda row: (row[2], -row[0]))
            if size <= COMMON_BUDGET:
                shortlist.update(
                    self._closest_in_letters(query, postings[word], TRIGRAM_RESCORE, TRIGRAM_CUTOFF)
                )
        # Names close in letters whatever the words: two typos in one word ("lUlmaen" for
        # Ullmann), a word broken by punctuation.
        near = self._trigrams.closest(query.full, TRIGRAM_CANDIDATES)
        shortlist.update(self._closest_in_letters(query, near, TRIGRAM_RESCORE, TRIGRAM_CUTOFF))
        by_joined = self._by_joined
        shortlist.update(by_joined.get(query.joined, ()))
        # The query less its first or last words may be a whole name: a word added ("Garcia
        # Store" for "Garcia", which hundreds of "Garcia-..." names would crowd out).
        words = query.words
        for at in range(1, len(words)):
            shortlist.update(by_joined.get("".join(words[:at]), ()))
            shortlist.update(by_joined.get("".join(words[at:]), ()))
        letters = _acronym_letters(query)
        if letters:
            shortlist.update(self._by_initials.get(letters, ())[:_ACRONYM_CANDIDATES])
        if len(query.joined) >= MIN_PREFIX_CHARS:
            keys, at = self._joined_keys, bisect_left(self._joined_keys, query.joined)
            end = min(at + _PREFIX_CANDIDATES, len(keys))
            while at < end and keys[at].startswith(query.joined):
                shortlist.add(self._joined_entries[at])
                at += 1
        return shortlist

    def search(self, text: str, *, limit: int = 100) -> list[Candidate]:
        """Suppliers for a type-ahead: by whole name, name prefix, word prefix, substring, fuzzy.

        Scores: 100 the whole normalised name, 90 its beginning, 80 the beginning of one of its
        words, 70 anywhere inside, and 0.6 * `score` for fuzzy matches scoring THRESHOLD (at
        least 3 characters typed). Empty text lists suppliers alphabetically, score 0.
        """
        if limit <= 0:
            return []
        typed = " ".join(_words(text))
        if not typed:
            return self._ranked(((entry, 0.0) for entry in self._search_entries[:limit]), limit)
        found: dict[int, float] = {}
        keys, entries = self._search_keys, self._search_entries
        at = bisect_left(keys, typed)
        while at < len(keys) and len(found) < limit and keys[at].startswith(typed):
            found[entries[at]] = _SEARCH_EXACT if keys[at] == typed else _SEARCH_PREFIX
            at += 1
        if len(found) < limit:
            # Keys are sorted, so the first hits in the blob are the first alphabetically.
            word_starts: list[int] = []
            inside: list[int] = []
            budget = limit * _SEARCH_SCAN_PER_RESULT
            offset = self._blob.find(typed)
            while offset != -1 and len(word_starts) < limit and budget:
                budget -= 1
                before = self._blob[offset - 1] if offset else "\n"
                if before == " ":
                    word_starts.append(offset)
                elif before != "\n" and len(inside) < limit:
                    inside.append(offset)
                offset = self._blob.find(typed, offset + 1)
            for offsets, value in ((word_starts, _SEARCH_WORD_PREFIX), (inside, _SEARCH_SUBSTRING)):
                for offset in offsets:
                    found.setdefault(entries[bisect_right(self._starts, offset) - 1], value)
        if len(found) < limit and len(typed) >= _SEARCH_MIN_FUZZY_CHARS:
            for entry, value in self._scores(text).items():
                if value >= THRESHOLD:
                    found.setdefault(entry, _SEARCH_FUZZY_FACTOR * value)
        return self._ranked(found.items(), limit)
