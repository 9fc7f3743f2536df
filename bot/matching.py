"""Supplier name matching: normalise once, look up exactly, rank the closest with rapidfuzz.

Pure and I/O-free. A `SupplierIndex` is built once per sync from a connection's active suppliers
and is immutable afterwards, so any number of threads may read it at once; `with_supplier`
returns a new index.

Normalisation (`normalize`) turns a name into three fields compared separately:

* `core` — the words: the first 200 characters, case-folded, accents and marks removed (plus
  ø→o, æ→ae, œ→oe, ł→l, đ/ð→d, þ→th, ß→ss), apostrophes dropped ("McDonald's" → "mcdonalds"),
  dotted abbreviations joined ("S.A." → "sa", "J. P." → "jp"), runs of single letters joined
  ("A B C" → "abc"), `&` and `+` read as "and", every other non-alphanumeric character (punctuation,
  control characters, emoji) a word break, numbers without leading zeros ("007" → "7"), a few
  unambiguous abbreviations spelled out ("Bros" → "brothers", "Intl" → "international",
  "Centre" → "center", ...), a leading "The" dropped;
* `legal_form` — a trailing legal form, in canonical spelling ("Limited" → "ltd", "L.L.C." → "llc",
  "Pty. Limited" → "pty ltd", "& Co" → "co"); a name that is nothing but a legal form keeps it as
  its core;
* `numbers` — the digit groups of the core, without leading zeros.

Two legal forms are compatible when either is missing or they belong to the same family: the
"ltd" family holds ltd, pty ltd, pvt ltd, pte ltd and co ltd (which is also in the "co" family);
every other form is its own family, so PLC and LLC, or Inc and Corp, are different companies.

Scoring (`score`) compares two normalised names word by word. Two words are similar when they
are equal, equal but for a plural ("supply"/"supplies"), or start with the same letter and reach
WORD_SIMILARITY with `fuzz.ratio` (typos rarely hit the first letter). Each side's words are
looked up in the other's; the better side's share of matched word length counts, less
EXTRA_WORD_PENALTY per word the names differ in length (a dropped word stays close, an
unexplained one costs). Names equal but for spaces ("Green Leaf"/"Greenleaf") score 100. A
conflicting legal form or differing numbers then scale the score down hard, since
"Bartell PLC"/"Bartell LLC" and "Twins 5"/"Twins 6" are different companies. The scorer and
`THRESHOLD` were chosen with `python -m bench.matcher_calibration` over the labelled pairs in
tests/matching/labelled_pairs.csv, where plain rapidfuzz scorers (WRatio, token_set_ratio, ...)
could not reach 0.95 precision with useful recall.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate

from rapidfuzz import fuzz, process

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
    "sl": ("sl",),
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
}
_LEGAL_FORMS = {
    tuple(spelling.split()): canonical
    for canonical, spellings in _LEGAL_SPELLINGS.items()
    for spelling in spellings
}
_LEGAL_MAX_WORDS = max(len(words) for words in _LEGAL_FORMS)
_FAMILIES = {
    "pty ltd": frozenset({"ltd"}),
    "pvt ltd": frozenset({"ltd"}),
    "pte ltd": frozenset({"ltd"}),
    "co ltd": frozenset({"ltd", "co"}),
}


@dataclass(frozen=True)
class NormalizedName:
    """A supplier name reduced to the fields matching compares."""

    core: str
    legal_form: str | None
    numbers: tuple[str, ...]


def _ascii_digits(digits: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in digits).lstrip("0") or "0"


def _words(name: str) -> list[str]:
    """The normalised words of `name`, legal form included."""
    text = name[:MAX_NAME_CHARS].casefold()
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))
        text = text.translate(_FOLD)
    text = _APOSTROPHES.sub("", text)
    text = _DOTTED.sub(lambda m: "".join(_WORD.findall(m.group())) + " ", text)
    text = _AND.sub(" and ", text)
    words: list[str] = []
    run: list[str] = []  # consecutive single letters, joined: "a b c" -> "abc"
    for word in [*_WORD.findall(text), ""]:
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
    legal_form = None
    for size in range(min(_LEGAL_MAX_WORDS, len(words) - 1), 0, -1):
        canonical = _LEGAL_FORMS.get(tuple(words[-size:]))
        if canonical:
            legal_form = canonical
            words = words[:-size]
            break
    core = " ".join(words)[:MAX_NAME_CHARS].rstrip()
    return NormalizedName(core, legal_form, tuple(map(_ascii_digits, _DIGITS.findall(core))))


def normalize(name: str) -> NormalizedName:
    """Normalise a supplier name (see the module docstring for the rules)."""
    return _from_words(_words(name))


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
# Scoring

# Chosen with `python -m bench.matcher_calibration` over tests/matching/labelled_pairs.csv (279
# pairs: 164 same, 115 different): at 81, precision 0.976 (4 wrong matches) and recall 0.976 (4
# misses: acronyms and spelled-out numbers). The pairs were written alongside this scorer, so
# expect a little less on real names.
THRESHOLD: float = 81.0
WORD_SIMILARITY = 80.0  # fuzz.ratio at which two words count as the same word (with a typo)
EXTRA_WORD_PENALTY = 8.0  # per word one name has more than the other
LEGAL_FORM_CONFLICT = 0.6  # score factor: "Bartell PLC" / "Bartell LLC"
NUMBER_CONFLICT = 0.6  # score factor: "Twins 5" / "Twins 6"
NUMBER_ON_ONE_SIDE = 0.9  # score factor: "Twins" / "Twins 5"
_MIN_WORD_WEIGHT = 3  # initials and numbers weigh as much as a short word
_EPSILON = 1e-6  # slack for float rounding in the bounds that skip hopeless entries


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

    Words must share their first letter: typos rarely hit it, and "Dyson"/"Tyson" or
    "Eastside"/"Westside" are different names.
    """
    if not a or not b:
        return 0.0
    if a == b or _stem(a) == _stem(b):
        return 100.0
    if a[0] != b[0]:
        return 0.0
    similarity = fuzz.ratio(a, b, score_cutoff=WORD_SIMILARITY)
    return similarity if similarity >= WORD_SIMILARITY else 0.0


def _words_score(
    a_words: list[str], b_words: list[str], similarity: Callable[[str, str], float]
) -> float:
    """How well each side's words are found in the other's, weighted by word length.

    The better direction counts, less EXTRA_WORD_PENALTY per word of difference in length, so a
    name with a word dropped stays close; it never falls below the worse direction.
    """
    matrix = [[similarity(a, b) for b in b_words] for a in a_words]
    a_weights = [_weight(a) for a in a_words]
    b_weights = [_weight(b) for b in b_words]
    forward = sum(w * max(row) for w, row in zip(a_weights, matrix, strict=True)) / sum(a_weights)
    columns = zip(*matrix, strict=True)
    backward = sum(w * max(col) for w, col in zip(b_weights, columns, strict=True)) / sum(b_weights)
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
        similarity *= LEGAL_FORM_CONFLICT
    if a_numbers != b_numbers and set(a_numbers) != set(b_numbers):
        similarity *= NUMBER_CONFLICT if a_numbers and b_numbers else NUMBER_ON_ONE_SIDE
    return similarity


def score(a: NormalizedName, b: NormalizedName) -> float:
    """How likely two normalised names are the same supplier, 0..100 (see the module docstring)."""
    if not a.core or not b.core:
        return 0.0
    if a.core.replace(" ", "") == b.core.replace(" ", ""):
        similarity = 100.0
    else:
        a_words, b_words = _scoring_words(a.core), _scoring_words(b.core)
        similarity = _words_score(a_words, b_words, word_similarity)
    return apply_rules(similarity, a.legal_form, a.numbers, b.legal_form, b.numbers)


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


class SupplierIndex:
    """A connection's active suppliers, normalised once, for exact, fuzzy and type-ahead lookups.

    Immutable after `build`: concurrent readers need no lock. Per-entry data sits in parallel
    lists indexed by entry number. Fuzzy lookups never compare the query with every supplier:
    a supplier can reach THRESHOLD only if it shares a similar word with the query (see
    `_shortlist`), so the words are indexed (`_postings`, `_signatures`) and only suppliers
    found through them are scored, with word similarities looked up rather than recomputed.
    """

    def __init__(self) -> None:
        self._ids: list[str] = []
        self._names: list[str] = []
        self._cores: list[str] = []
        self._legal: list[str | None] = []
        self._numbers: list[tuple[str, ...]] = []
        self._words: list[tuple[str, ...]] = []
        self._weight_totals: list[int] = []  # sum of `_weight` over each entry's words
        self._position: dict[str, int] = {}  # supplier id -> entry
        self._by_joined: dict[str, list[int]] = {}  # core without spaces -> entries
        self._df: dict[str, int] = {}  # word -> how many entries have it
        self._postings: dict[str, list[int]] = {}  # word -> entries having it
        self._signatures: dict[str, list[int]] = {}  # word -> entries it is a signature word of
        self._by_initial: dict[str, list[str]] = {}  # first character -> words
        self._by_stem: dict[str, list[str]] = {}
        self._search_keys: list[str] = []  # sorted normalised full names
        self._search_entries: list[int] = []  # the entry of each search key
        self._blob = ""  # the search keys joined with "\n", for substring search
        self._starts: list[int] = []  # offset of each search key in the blob

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, suppliers: Iterable[tuple[str, str]]) -> SupplierIndex:
        """Index `(supplier_id, name)` of active suppliers; a repeated id keeps its last name."""
        latest = dict(suppliers)
        index = cls()
        words_of = [_words(name) for name in latest.values()]
        interned: dict[str, str] = {}
        for (supplier_id, name), words in zip(latest.items(), words_of, strict=True):
            index._add_entry(supplier_id, name, _from_words(words), interned)
        for entry, words in enumerate(index._words):
            for word in set(words):
                index._df[word] = index._df.get(word, 0) + 1
                index._postings.setdefault(word, []).append(entry)
        for word in index._df:
            index._by_initial.setdefault(word[0], []).append(word)
            index._by_stem.setdefault(_stem(word), []).append(word)
        for entry, words in enumerate(index._words):
            for word in index._signature(words):
                index._signatures.setdefault(word, []).append(entry)
        index._build_search([" ".join(words) for words in words_of])
        return index

    def _add_entry(
        self, supplier_id: str, name: str, normalized: NormalizedName, interned: dict[str, str]
    ) -> int:
        entry = len(self._ids)
        self._ids.append(supplier_id)
        self._names.append(name)
        self._cores.append(normalized.core)
        self._legal.append(normalized.legal_form)
        self._numbers.append(normalized.numbers)
        words = _scoring_words(normalized.core) if normalized.core else []
        self._words.append(tuple(interned.setdefault(word, word) for word in words))
        self._weight_totals.append(sum(map(_weight, words)))
        self._position[supplier_id] = entry
        if normalized.core:
            joined = normalized.core.replace(" ", "")
            # A new list, never an append: `with_supplier` shares these lists with its source.
            self._by_joined[joined] = [*self._by_joined.get(joined, ()), entry]
        return entry

    def _signature(self, words: Iterable[str]) -> list[str]:
        """The rarest of `words` that weigh more than (1 - THRESHOLD/100) of them all.

        A name that matches none of them cannot have THRESHOLD of its own words found in
        another name, whatever the other name is.
        """
        return _prefix(list(words), lambda word: (self._df.get(word, 0), word))

    def _build_search(self, keys: list[str]) -> None:
        order = sorted(range(len(keys)), key=lambda entry: (keys[entry], self._names[entry]))
        self._search_entries = order
        self._search_keys = [keys[entry] for entry in order]
        self._blob = "\n".join(self._search_keys)
        self._starts = list(accumulate((len(key) + 1 for key in self._search_keys), initial=0))

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
        words = _words(name)
        entry = new._add_entry(supplier_id, name, _from_words(words), {})
        for word in set(new._words[entry]):
            new._df[word] = new._df.get(word, 0) + 1
            new._postings[word] = [*new._postings.get(word, ()), entry]
            if new._df[word] == 1:
                new._by_initial[word[0]] = [*new._by_initial.get(word[0], ()), word]
                new._by_stem[_stem(word)] = [*new._by_stem.get(_stem(word), ()), word]
        for word in new._signature(new._words[entry]):
            new._signatures[word] = [*new._signatures.get(word, ()), entry]
        key = " ".join(words)
        at = bisect_right(new._search_keys, key)
        new._search_keys.insert(at, key)
        new._search_entries.insert(at, entry)
        new._blob = "\n".join(new._search_keys)
        new._starts = list(accumulate((len(k) + 1 for k in new._search_keys), initial=0))
        return new

    def __len__(self) -> int:
        return len(self._ids)

    # -- lookups -------------------------------------------------------------------------------

    def _candidate(self, entry: int, score: float) -> Candidate:
        return Candidate(self._ids[entry], self._names[entry], score)

    def _ranked(self, scored: Iterable[tuple[int, float]], limit: int) -> list[Candidate]:
        names, ids = self._names, self._ids
        best = sorted(
            scored,
            key=lambda item: (-item[1], names[item[0]].casefold(), names[item[0]], ids[item[0]]),
        )
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

    def candidates(self, name: str, *, limit: int = 13) -> list[Candidate]:
        """Suppliers scoring at least THRESHOLD against `name`, best first (ties by name)."""
        return self._ranked(self._matches(normalize(name)).items(), limit)

    def _similar_words(self, word: str) -> dict[str, float]:
        """The indexed words with a non-zero `word_similarity` to `word`, and that similarity."""
        similar = {
            choice: similarity
            for choice, similarity, _ in process.extract(
                word,
                self._by_initial.get(word[0], ()),
                scorer=fuzz.ratio,
                processor=None,
                score_cutoff=WORD_SIMILARITY,
                limit=None,
            )
        }
        for choice in self._by_stem.get(_stem(word), ()):
            similar[choice] = 100.0
        return similar

    def _shortlist(self, words: list[str], similar: dict[str, dict[str, float]]) -> set[int]:
        """Every entry that can score THRESHOLD against `words`, and a few more.

        Scoring THRESHOLD needs THRESHOLD of the query's words found in the entry's or the
        entry's in the query's. The first needs a word similar to one of the query's rarest
        words (its prefix); the second a query word similar to one of the entry's signature
        words. A name equal but for spaces is found by `_by_joined`.
        """

        def rarity(word: str) -> tuple[int, str]:
            return sum(self._df[choice] for choice in similar[word]), word

        shortlist: set[int] = set()
        for word in _prefix(words, rarity):
            for choice in similar[word]:
                shortlist.update(self._postings[choice])
        for choices in similar.values():
            for choice in choices:
                shortlist.update(self._signatures.get(choice, ()))
        return shortlist

    def _matches(self, query: NormalizedName) -> dict[int, float]:
        """Entries scoring at least THRESHOLD against `query`, with their `score`."""
        if not query.core:
            return {}
        words = _scoring_words(query.core)
        similar = {word: self._similar_words(word) for word in set(words)}
        joined = self._by_joined.get(query.core.replace(" ", ""), ())
        shortlist = self._shortlist(words, similar)
        shortlist.update(joined)
        # Which query words each indexed word is similar to: enough to bound both directions
        # of `_words_score` from above cheaply, and to skip most of the shortlist.
        similar_to: dict[str, list[str]] = {}
        for word, choices in similar.items():
            for choice in choices:
                similar_to.setdefault(choice, []).append(word)
        query_weights = {word: _weight(word) * words.count(word) for word in similar}
        query_total = sum(query_weights.values())

        def similarity(query_word: str, entry_word: str) -> float:
            return similar[query_word].get(entry_word, 0.0)

        matches: dict[int, float] = {}
        for entry in shortlist:
            legal, numbers = self._legal[entry], self._numbers[entry]
            if entry in joined:
                value = apply_rules(100.0, query.legal_form, query.numbers, legal, numbers)
                if value >= THRESHOLD:
                    matches[entry] = value
                continue
            entry_words = self._words[entry]
            found_weight, found = 0, set()
            for entry_word in entry_words:
                if entry_word in similar_to:
                    found_weight += _weight(entry_word)
                    found.update(similar_to[entry_word])
            # Every similarity is at most 100, so this bounds `_words_score` from above.
            forward = 100 * sum(query_weights[word] for word in found) / query_total
            backward = 100 * found_weight / self._weight_totals[entry]
            extra = EXTRA_WORD_PENALTY * abs(len(words) - len(entry_words))
            bound = max(max(forward, backward) - extra, min(forward, backward))
            bound = apply_rules(bound, query.legal_form, query.numbers, legal, numbers)
            if bound < THRESHOLD - _EPSILON:
                continue
            value = _words_score(words, list(entry_words), similarity)
            value = apply_rules(value, query.legal_form, query.numbers, legal, numbers)
            if value >= THRESHOLD:
                matches[entry] = value
        return matches

    def search(self, text: str, *, limit: int = 100) -> list[Candidate]:
        """Suppliers for a type-ahead: by whole name, name prefix, word prefix, substring, fuzzy.

        Scores: 100 the whole normalised name, 90 its beginning, 80 the beginning of one of its
        words, 70 anywhere inside, and 0.6 * `score` for fuzzy matches (at least 3 characters
        typed). Empty text lists suppliers alphabetically, score 0.
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
            for entry, value in self._matches(normalize(text)).items():
                found.setdefault(entry, _SEARCH_FUZZY_FACTOR * value)
        return self._ranked(found.items(), limit)


def _prefix(words: list[str], rarity: Callable[[str], object]) -> list[str]:
    """The rarest distinct `words` that weigh more than (1 - THRESHOLD/100) of all `words`."""
    total = sum(_weight(word) for word in words)
    needed = total * (1 - THRESHOLD / 100) + _EPSILON
    chosen: list[str] = []
    weight = 0.0
    for word in sorted(set(words), key=rarity):
        chosen.append(word)
        weight += _weight(word) * words.count(word)
        if weight > needed:
            break
    return chosen
