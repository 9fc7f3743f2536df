"""Evaluation data for supplier matching: public-style company names and a documented noise model.

Nothing here was written alongside the scorer: supplier names come from Faker's company-name
providers (the names its locales generate, with their legal forms: "Wilson-Hodges Inc",
"Dekker & Reimes", "Geisler Sp. z o.o.", Russian names in Cyrillic, "山田電気株式会社"), and
queries are those names passed through random noise. Everything is seeded: same split, same
size, same data.

Two splits, each its own locales and seeds, so names barely overlap:

* `DEV` — the development split, the only one the scorer and its constants were tuned on;
* `HELD_OUT` — other locales (English names drawn from en_GB's surnames, Polish, Danish, Czech,
  Hungarian, Portuguese, Finnish, Bulgarian, Chinese), other seeds; measured, never tuned on;
* `dev_large(k)` — k more development splits, DEV's locales with other seeds: a larger dev set
  where the scorer still fails (`python -m bench.matcher_calibration --dev-large`).

The noise model (`noisy_queries`), applied to a listed supplier's name as a bill or an OCR pass
would print it; each kind is its own set:

* `typos` — 1 character edit (2 for names of 12 characters or more, half the time) at a uniformly
  random letter or digit, the first letter included: substitution by another letter, a digit
  or a punctuation mark, an inserted letter, a deleted character, or two neighbours swapped;
* `format` — 1 or 2 of: case flips (the whole name upper or lower case, or 1-3 letters
  swapped), punctuation inside a word ("Hil_pert", "San,ford"), a lost separator (a space,
  hyphen or ", " between two words dropped: "DillPLC"), a stray control character (NUL, BEL,
  ESC, C1 controls like \\x80, a zero-width space, a tab) anywhere;
* `words` — 1 of: a word dropped (names of 3 or more words, never the legal form, and two
  words besides "and" stay: "and Sons" is no noisy name of "Merritt and Sons"), a word
  added ("The", "UK", "Services", "Online", "Trading", "Store"), an abbreviation or its
  expansion ("&"/"and", "Company"/"Co", "Brothers"/"Bros", "Incorporated"/"Inc",
  "Limited"/"Ltd", "International"/"Intl"), two neighbouring words of the name swapped
  (never the legal form);
* `mixed` — one typo, one format change and, half the time, one word change (the shape of
  "Tjwne, Johnston and Murray", "Co mier-St^nton").

Noise that turns one supplier into another is drawn again, the same for every scorer: no
matcher could know which supplier such a name means, so it would measure the data, not the
matcher. Suppliers that have another's words and legal form ("Johansson & Sandström HB",
"Johansson Sandström HB") are not drawn at all, and a noisy name is drawn again when

* it is another listed supplier's name but for punctuation, "and"/"&", the legal form and the
  order of the words ("Smith and Brown" when "Smith-Brown" or "Brown-Smith" is listed, from
  "Thompson, Smith and Brown" with a word dropped);
* its words are another listed supplier's with one word dropped too ("Elliott and Davis",
  from "Morrison, Elliott and Davis", is just as much "Elliott, Rose and Davis" less "Rose");
* the same word change applied to the clean name would do either of the above (a `mixed`
  name's typo hides the collision, not the ambiguity: "lee, and gruen" from "Lee, Trujillo
  and Green" when "Lee-Green" is listed).

A descriptor cut at 22 characters is drawn again when what is left of the supplier's name
begins another listed supplier's name too ("SUMUP *BLANCO Y ASOCIA": "Blanco y asociados
S.A." or "S.L."?).

`hard_negatives` are names of no listed supplier that share a word with one ("Wilson-Kramer"
when "Wilson-Hodges" is listed). `descriptors` are card-statement and till spellings, written
from real statement formats (bench/eval_names.py `_DESCRIPTOR_FORMATS`), of well-known
merchants and of listed suppliers. `REAL_PAIRS` are real companies' spellings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache

from faker import Faker

from bot.matching import match_key, normalize


@dataclass(frozen=True)
class Split:
    name: str
    seed: int
    locales: tuple[tuple[str, int], ...]  # locale and weight


DEV = Split(
    "dev",
    1_001,
    (
        ("en_US", 50),
        ("de_DE", 9),
        ("fr_FR", 8),
        ("es_ES", 8),
        ("it_IT", 8),
        ("nl_NL", 6),
        ("sv_SE", 5),
        ("ru_RU", 3),
        ("ja_JP", 3),
    ),
)
HELD_OUT = Split(
    "held-out",
    7_919,
    (
        ("en_GB", 50),
        ("pl_PL", 9),
        ("da_DK", 8),
        ("cs_CZ", 8),
        ("hu_HU", 7),
        ("pt_BR", 6),
        ("fi_FI", 6),
        ("bg_BG", 3),
        ("zh_CN", 3),
    ),
)
SPLITS = (DEV, HELD_OUT)


def dev_large(count: int) -> tuple[Split, ...]:
    """`count` more development splits: DEV's locales and weights, other seeds (other names,
    other noise). The dev split's own figures are at or near 100 %, so they no longer show
    what fails; these do, and they are still development data (tuning on them is fair)."""
    seeds = (DEV.seed + 104_729 * k for k in range(1, count + 1))
    return tuple(Split(f"dev+{k}", seed, DEV.locales) for k, seed in enumerate(seeds, 1))


NOISY_KINDS = ("typos", "format", "words", "mixed")


@dataclass(frozen=True)
class Query:
    """A name as submitted, and the supplier it means (None: no listed supplier)."""

    text: str
    expected_id: str | None
    kind: str


def _fakers(split: Split, salt: int) -> tuple[list[Faker], list[int]]:
    fakers, weights = [], []
    for i, (locale, weight) in enumerate(split.locales):
        fake = Faker(locale)
        fake.seed_instance(split.seed * 31 + salt * 1_000 + i)
        fakers.append(fake)
        weights.append(weight)
    return fakers, weights


@cache
def suppliers(split: Split, n: int) -> tuple[tuple[str, str], ...]:
    """`n` (supplier_id, name) pairs of Faker company names; no two share a `match_key`."""
    rng = random.Random(split.seed)
    fakers, weights = _fakers(split, 0)
    listed: list[tuple[str, str]] = []
    keys: set[str] = set()
    while len(listed) < n:
        name = rng.choices(fakers, weights)[0].company()
        key = match_key(name)
        if key.startswith("|") or key in keys or _BRANDS & set(key.replace("|", " ").split()):
            continue
        keys.add(key)
        listed.append((f"{split.name}-{len(listed):06d}", name))
    return tuple(listed)


# -- noise ---------------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_PUNCTUATION = "^_,.'-~*;:"
_CONTROLS = ("\x00", "\x07", "\x1b", "\x80", "\x9d", "\u200b", "\t", "\x0c")
_CONNECTORS = frozenset({"and", "&", "und", "et", "e", "i", "y", "og", "en"})
_ADDED_WORDS = ("The", "UK", "Services", "Online", "Trading", "Store")
_SWAPS = (
    (" & ", " and "),
    (" and ", " & "),
    ("Company", "Co"),
    ("Co.", "Company"),
    ("Brothers", "Bros"),
    ("Incorporated", "Inc"),
    ("Inc", "Incorporated"),
    ("Ltd", "Limited"),
    ("Limited", "Ltd"),
    ("International", "Intl"),
    (" e ", " & "),
    (" i ", " & "),
    (" og ", " & "),
    (" en ", " & "),
)


def _edit_positions(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if ch.isalnum()]


def _typo(rng: random.Random, text: str) -> str:
    positions = _edit_positions(text)
    if not positions:
        return text
    i = rng.choice(positions)
    op = rng.randrange(6)
    ch = text[i]
    if op == 0:  # another letter, same case
        new = rng.choice(_LETTERS.replace(ch.lower(), ""))
        return text[:i] + (new.upper() if ch.isupper() else new) + text[i + 1 :]
    if op == 1:
        return text[:i] + rng.choice(_DIGITS) + text[i + 1 :]
    if op == 2:
        return text[:i] + rng.choice(_PUNCTUATION) + text[i + 1 :]
    if op == 3:
        return text[:i] + rng.choice(_LETTERS) + text[i:]
    if op == 4:
        return text[:i] + text[i + 1 :]
    if i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[: i - 1] + text[i] + text[i - 1] if i else text


def _format(rng: random.Random, text: str) -> str:
    op = rng.randrange(4)
    if op == 0:
        style = rng.randrange(3)
        if style == 0:
            return text.upper()
        if style == 1:
            return text.lower()
        chars = list(text)
        for i in rng.sample(range(len(chars)), min(len(chars), rng.randint(1, 3))):
            chars[i] = chars[i].swapcase()
        return "".join(chars)
    if op == 1:  # punctuation inside a word
        inside = [i for i in range(1, len(text)) if text[i - 1].isalnum() and text[i].isalnum()]
        if not inside:
            return text
        i = rng.choice(inside)
        return text[:i] + rng.choice("_,.^'") + text[i:]
    if op == 2:  # a lost separator
        gaps = [i for i in range(1, len(text) - 1) if text[i] in " -" and text[i - 1] != ","]
        gaps += [i - 1 for i in range(1, len(text) - 1) if text[i - 1 : i + 1] == ", "]
        if not gaps:
            return text
        i = rng.choice(gaps)
        width = 2 if text[i : i + 2] == ", " else 1
        return text[:i] + text[i + width :]
    i = rng.randrange(len(text) + 1)
    return text[:i] + rng.choice(_CONTROLS) + text[i:]


def _word(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    op = rng.randrange(4)
    if op == 0:
        legal = normalize(text).legal_form
        # Never the legal form: the last word(s) of a name that has one stay.
        last = len(words) - (len(legal.split()) if legal else 0)
        droppable = [i for i in range(last) if words[i].strip(",").isalpha()]
        if len(droppable) < 3:
            return text
        dropped = rng.choice(droppable)
        # Two words besides "and" stay: "and Sons" (from "Merritt and Sons") or "and Miller"
        # (from "BlackHarper and Miller") is any "... and Sons", not a noisy name of one.
        kept = [i for i in droppable if i != dropped and words[i].casefold() not in _CONNECTORS]
        if len(kept) < 2:
            return text
        del words[dropped]
        return " ".join(words)
    if op == 1:
        word = rng.choice(_ADDED_WORDS)
        return f"{word} {text}" if word == "The" else f"{text} {word}"
    if op == 2:
        found = [(a, b) for a, b in _SWAPS if a in text]
        if not found:
            return text
        a, b = rng.choice(found)
        return text.replace(a, b, 1)
    legal = normalize(text).legal_form
    last = len(words) - (len(legal.split()) if legal else 0)  # the legal form stays last
    pairs = [i for i in range(last - 1) if words[i].isalpha() and words[i + 1].isalpha()]
    if not pairs:
        return text
    i = rng.choice(pairs)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _noisy(rng: random.Random, name: str, kind: str) -> tuple[str, str | None]:
    """A noisy `name`, and for a `mixed` one with a word change, `name` with only that word
    change (its twin, checked for collisions too)."""
    text = name
    if kind == "typos":
        for _ in range(2 if len(name) >= 12 and rng.random() < 0.5 else 1):
            text = _typo(rng, text)
    elif kind == "format":
        for _ in range(rng.choice((1, 2))):
            text = _format(rng, text)
    elif kind == "words":
        text = _word(rng, text)
    else:
        text = _format(rng, _typo(rng, text))
        if rng.random() < 0.5:
            twin = random.Random()
            twin.setstate(rng.getstate())
            text = _word(rng, text)
            return text, _word(twin, name)
    return text, None


def _words_of(name: str) -> tuple[str, ...]:
    """A name's words but "and", legal form aside, in alphabetical order: "Smith and Brown" is
    "Smith-Brown", and "Brown-Smith" with the words swapped."""
    normalized = normalize(name)
    return tuple(sorted(word for word in normalized.core.split() if word != "and"))


@cache
def _owners(
    split: Split, n_suppliers: int
) -> tuple[dict[tuple[str, ...], set[str]], dict[tuple[str, ...], set[str]]]:
    """Suppliers by their words (`_words_of`), and by their words less any one word."""
    owners: dict[tuple[str, ...], set[str]] = {}
    shortened: dict[tuple[str, ...], set[str]] = {}
    for supplier_id, name in suppliers(split, n_suppliers):
        words = _words_of(name)
        owners.setdefault(words, set()).add(supplier_id)
        if len(words) >= 3:  # a word is dropped only from names of 3 words or more
            for i in range(len(words)):
                shortened.setdefault(words[:i] + words[i + 1 :], set()).add(supplier_id)
    return owners, shortened


def _names_one(split: Split, n_suppliers: int, supplier_id: str, text: str) -> bool:
    """Whether `text` names `supplier_id` and no other listed supplier (module docstring)."""
    owners, shortened = _owners(split, n_suppliers)
    words = _words_of(text)
    if not words or owners.get(words, {supplier_id}) != {supplier_id}:
        return False
    return shortened.get(words, set()) <= {supplier_id}


@cache
def _twins(split: Split, n_suppliers: int) -> frozenset[str]:
    """Suppliers whose words and legal form another supplier has too ("Johansson & Sandström
    HB" and "Johansson Sandström HB"): any noisy name of one is just as much the other's."""
    seen: dict[tuple[tuple[str, ...], str | None], list[str]] = {}
    for supplier_id, name in suppliers(split, n_suppliers):
        seen.setdefault((_words_of(name), normalize(name).legal_form), []).append(supplier_id)
    return frozenset(sid for ids in seen.values() if len(ids) > 1 for sid in ids)


def noisy_queries(split: Split, n_suppliers: int, kind: str, count: int) -> list[Query]:
    """`count` noisy names of random listed suppliers (see the module docstring)."""
    listed = suppliers(split, n_suppliers)
    twins = _twins(split, n_suppliers)
    rng = random.Random(f"{split.seed}-{n_suppliers}-{kind}")
    queries: list[Query] = []
    while len(queries) < count:
        supplier_id, name = rng.choice(listed)
        if supplier_id in twins:
            continue
        for _ in range(20):
            text, twin = _noisy(rng, name, kind)
            if (
                text != name
                and _names_one(split, n_suppliers, supplier_id, text)
                and (twin is None or _names_one(split, n_suppliers, supplier_id, twin))
            ):
                queries.append(Query(text, supplier_id, kind))
                break
    return queries


def hard_negatives(split: Split, n_suppliers: int, count: int) -> list[Query]:
    """Names of no listed supplier that keep all but one word of a listed supplier's name."""
    listed = suppliers(split, n_suppliers)
    # Not even equal but for the legal form: "Kramer" is "Kramer Ltd" for the exact rule.
    cores = {normalize(name).core for _, name in listed}
    rng = random.Random(f"{split.seed}-{n_suppliers}-negatives")
    fakers, weights = _fakers(split, 1)
    queries: list[Query] = []
    while len(queries) < count:
        _, name = rng.choice(listed)
        words = name.split(" ")
        legal = normalize(name).legal_form
        last = len(words) - (len(legal.split()) if legal else 0)
        replaceable = [i for i in range(last) if len(words[i].strip(",")) >= 3]
        if not replaceable or (last < 2 and "-" not in name):
            continue
        other = rng.choices(fakers, weights)[0].last_name()
        i = rng.choice(replaceable)
        if "-" in words[i] and rng.random() < 0.5:
            left, _, right = words[i].partition("-")
            words[i] = f"{left}-{other}" if rng.random() < 0.5 else f"{other}-{right}"
        else:
            words[i] = other + ("," if words[i].endswith(",") else "")
        text = " ".join(words)
        if normalize(text).core not in cores:
            queries.append(Query(text, None, "hard_negative"))
    return queries


# -- card statements and tills -----------------------------------------------------------------

# Well-known merchants as an accounting list would hold them, with what their own card lines
# print (written from real statements: the merchant's descriptor, a reference or store number,
# a city, a country, a domain).
MERCHANTS = (
    ("Uber BV", ("UBER *TRIP HELP.UBER.COM", "UBER *EATS PENDING", "UBER   *TRIP {ref}")),
    ("Trainline.com Ltd", ("TRAINLINE.COM LONDON GB", "TRAINLINE {city}", "WWW.TRAINLINE.COM")),
    (
        "Amazon EU S.a.r.l.",
        ("AMZN Mktp UK*{ref}", "AMAZON.CO.UK*{ref}", "Amazon.co.uk*{ref} AMAZON.CO.UK"),
    ),
    ("Microsoft Ireland Operations Ltd", ("MSFT *{ref}", "MSFT * E0{num} MSBILL.INFO")),
    ("Google Ireland Ltd", ("GOOGLE *GSUITE {ref}", "GOOGLE *Google Storage", "GOOGLE*ADS{num}")),
    ("Apple Distribution International", ("APPLE.COM/BILL", "APPLE.COM/UK {city}")),
    ("Tesco Stores Ltd", ("TESCO STORES {num} {city}", "TESCO STORE {num}", "TESCO PFS {num}")),
    ("Starbucks Coffee Company", ("STARBUCKS {num} {city}", "STARBUCKS STORE {num}")),
    ("Costa Coffee", ("COSTA COFFEE {num} {city}", "COSTA {num} {city} GB")),
    ("Pret A Manger (Europe) Ltd", ("PRET A MANGER {city}", "PRET {num} {city}")),
    ("Shell UK Oil Products Ltd", ("SHELL {city} {num}", "SHELL OIL {num}")),
    ("Deliveroo", ("DELIVEROO {city}", "Deliveroo.co.uk")),
    ("Zoom Video Communications Inc", ("ZOOM.US {num}", "ZOOM.US 888-799-9666 CA")),
    ("Slack Technologies Ltd", ("SLACK T{ref} DUBLIN", "SLACK TECHNOLOGIES")),
    ("Adobe Systems Software Ireland Ltd", ("ADOBE *CREATIVE CLOUD", "ADOBE *{ref}")),
    ("Dropbox International", ("DROPBOX*{ref}", "DROPBOX {ref} DUBLIN")),
    ("Screwfix Direct Ltd", ("SCREWFIX {city}", "SCREWFIX DIRECT {num}")),
    ("Premier Inn Hotels Ltd", ("PREMIER INN {num} {city}", "PREMIER INN {city}")),
    ("Ryanair DAC", ("RYANAIR {ref}", "RYANAIR LTD DUBLIN IE")),
    ("Staples Inc", ("STAPLES {num} {city}", "STAPLES DIRECT {num}")),
)
# Faker lists a few real brands ("Google", "Shell"): the ledger holds one supplier for each.
_BRANDS = frozenset(normalize(name).core.split()[0] for name, _ in MERCHANTS)
_PROCESSORS = ("SQ *{name}", "SUMUP *{name}", "IZ *{name} {city}", "ZTL*{name}", "PAYPAL *{joined}")
_CITIES = ("LONDON", "BRISTOL", "LEEDS", "MANCHESTER", "DUBLIN", "GLASGOW", "BERLIN", "PARIS")


def _ref(rng: random.Random) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(9))


def descriptor_suppliers(split: Split, n_suppliers: int) -> tuple[tuple[str, str], ...]:
    """The split's suppliers with the well-known merchants added (ids `merchant-N`)."""
    merchants = tuple((f"merchant-{i:02d}", name) for i, (name, _) in enumerate(MERCHANTS))
    return suppliers(split, n_suppliers) + merchants


def descriptors(split: Split, n_suppliers: int, count: int) -> list[Query]:
    """Card lines: half of well-known merchants' own formats, half via card processors."""
    listed = suppliers(split, n_suppliers)
    rng = random.Random(f"{split.seed}-{n_suppliers}-descriptors")
    queries: list[Query] = []
    while len(queries) < count:
        if len(queries) % 2 == 0:
            i = rng.randrange(len(MERCHANTS))
            form = rng.choice(MERCHANTS[i][1])
            text = form.format(ref=_ref(rng), num=rng.randint(100, 99999), city=rng.choice(_CITIES))
            queries.append(Query(text, f"merchant-{i:02d}", "descriptor"))
            continue
        supplier_id, name = rng.choice(listed)
        if not name.isascii():
            continue
        joined = "".join(ch for ch in name if ch.isalnum()).upper()
        form = rng.choice(_PROCESSORS)
        text = form.format(name=name.upper(), joined=joined, city=rng.choice(_CITIES))
        if rng.random() < 0.5:
            text = text[:22]
            if _cut_is_ambiguous(listed, supplier_id, form, text):
                continue
        queries.append(Query(text, supplier_id, "descriptor"))
    return queries


def _cut_is_ambiguous(listed, supplier_id: str, form: str, text: str) -> bool:
    """Whether the name left in a descriptor cut short begins another supplier's name too."""
    prefix = form.partition("{")[0]
    left = text[len(prefix) :] if text.startswith(prefix) else ""
    if "{joined}" in form:
        spelled = ("".join(ch for ch in name if ch.isalnum()).upper() for _, name in listed)
    else:
        spelled = (name.upper() for _, name in listed)
    left = left.rstrip()
    return any(
        key.startswith(left) and other != supplier_id
        for (other, _), key in zip(listed, spelled, strict=True)
    )


# -- real companies ------------------------------------------------------------------------------

# (submitted, listed, same company?): legal-form spellings, "&"/"and", acronyms, transliteration,
# and different companies that differ only in legal form or one word.
REAL_PAIRS = (
    ("Apple Incorporated", "Apple Inc.", True),
    ("APPLE INC", "Apple Inc.", True),
    ("Johnson and Johnson", "Johnson & Johnson", True),
    ("Procter and Gamble Company", "The Procter & Gamble Company", True),
    ("P&G", "The Procter & Gamble Company", True),
    ("IBM", "International Business Machines Corporation", True),
    ("International Business Machines Corp.", "International Business Machines Corporation", True),
    ("AT&T Inc", "AT&T Inc.", True),
    ("Marks and Spencer PLC", "Marks & Spencer plc", True),
    ("M&S", "Marks & Spencer plc", True),
    ("Tesco PLC", "Tesco plc", True),
    ("Alphabet Incorporated", "Alphabet Inc.", True),
    ("Berkshire Hathaway Inc", "Berkshire Hathaway Inc.", True),
    ("HSBC Holdings", "HSBC Holdings plc", True),
    ("Rolls Royce Holdings PLC", "Rolls-Royce Holdings plc", True),
    ("Huawei Technologies Co Ltd", "Huawei Technologies Co., Ltd.", True),
    ("华为技术有限公司", "Huawei Technologies Co., Ltd.", True),
    ("Nestle S.A.", "Nestlé S.A.", True),
    ("Societe Generale SA", "Société Générale S.A.", True),
    ("Siemens Aktiengesellschaft", "Siemens AG", True),
    ("3M Company", "3M Co", True),
    ("Ernst and Young LLP", "Ernst & Young LLP", True),
    ("EY", "Ernst & Young LLP", True),
    ("Bartell PLC", "Bartell LLC", False),
    ("Apple Inc", "Apple Hospitality REIT Inc", False),
    ("Johnson Controls", "Johnson & Johnson", False),
    ("Delta Air Lines Inc", "Delta Electronics Inc", False),
    ("American Express Company", "American Airlines Group Inc", False),
    ("General Motors Company", "General Mills Inc", False),
    ("Marks Electrical Group PLC", "Marks & Spencer plc", False),
    ("Shell plc", "Shell Energy Retail Ltd", False),
    ("Unilever PLC", "Unilever N.V.", False),
    ("Sony Group Corporation", "Sony Interactive Entertainment LLC", False),
    ("Twins 5 Ltd", "Twins 6 Ltd", False),
    ("Acme Inc", "Acme Corp", False),
    ("Ford Motor Company", "Ford Models Inc", False),
)
