"""Realistic supplier names and the queries staff would type for them, for tests and benchmarks.

`supplier_names(n, seed=...)` makes `n` distinct supplier names (no two share a normalised core)
in the shapes accounting lists hold: surname and trade ("Harris Plumbing Ltd"), partners
("Baker & Grant LLP"), families ("Patel & Sons"), descriptive ("Silver Birch Landscaping"),
places ("Bristol Office Supplies"), initials ("J.P. Electrical", "ABC Cleaning"), coined brands
("Zentrix Solutions Inc"), numbers ("Unit 7 Motors", "Studio 54 Events") and non-English names
with their legal forms ("Boulangerie Lefèvre SARL", "Bäckerei Schröder GmbH").

`derive_queries(suppliers, n, seed=...)` turns some of them into what a bill would say — a typo,
swapped or dropped words, another spelling of the legal form, different case and punctuation —
and adds names that are not in the list at all. Same seed, same output.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.matching import normalize


def _split(text: str, separator: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(separator))


SURNAMES = _split(
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen "
    "James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook "
    "Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson "
    "Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali "
    "Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell "
    "Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur "
    "Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks "
    "West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose "
    "Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster "
    "Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland "
    "Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah "
    "Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross "
    "Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates Hodgson Robson "
    "Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin "
    "Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson "
    "Rowe Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson Hammond "
    "Arnold Buckley Walters Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost "
    "Lambert Stephens Blake Akhtar Lynch Goodwin Barton Woodward Thomson Cunningham Quinn "
    "Nguyen Tran Garcia Martinez Rodriguez Lopez Gonzalez Hernandez Kowalski Novak Rossi Bianchi "
    "Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Dubois Lefevre Moreau "
    "Laurent Girard Andersson Johansson Karlsson Nielsen Jensen Hansen Virtanen Korhonen Tanaka "
    "Suzuki Watanabe Kim Park Chen Wang Li Zhang Liu O'Sullivan MacLeod Fitzgerald Doherty"
)

TRADES = _split(
    "Plumbing|Plumbing & Heating|Electrical|Electrical Services|Joinery|Carpentry|Roofing|"
    "Building Services|Builders|Construction|Landscaping|Garden Services|Tree Surgery|Cleaning|"
    "Cleaning Services|Window Cleaning|Catering|Bakery|Butchers|Fishmongers|Fine Foods|"
    "Wholesale Foods|Produce|Dairy|Coffee Roasters|Wine Merchants|Brewing|Distillery|Printing|"
    "Print & Design|Signs|Graphics|Photography|Media|Marketing|Consulting|Consultancy|"
    "Accountants|Bookkeeping|Solicitors|Legal Services|Recruitment|Staffing|Security|"
    "Locksmiths|Removals|Logistics|Freight|Haulage|Couriers|Transport|Taxis|Car Hire|Motors|"
    "Auto Repairs|Tyres|Garage|Engineering|Fabrications|Welding|Machining|Tools|Hardware|"
    "Timber|Building Supplies|Plant Hire|Scaffolding|Glazing|Windows & Doors|Kitchens|"
    "Bathrooms|Flooring|Carpets|Tiles|Interiors|Furniture|Upholstery|Office Supplies|"
    "Stationery|IT Services|Computer Services|Software|Systems|Solutions|Technologies|"
    "Telecom|Networks|Web Design|Hosting|Data|Electronics|Lighting|Pest Control|"
    "Waste Management|Recycling|Skip Hire|Laundry|Dry Cleaners|Uniforms|Workwear|Textiles|"
    "Packaging|Labels|Chemicals|Laboratories|Medical Supplies|Pharmacy|Dental Supplies|"
    "Veterinary Supplies|Pet Supplies|Florists|Nurseries|Farm Supplies|Farms|Seafood|Meats|"
    "Beverages|Vending|Events|Marquees|Audio Visual|Training|Travel|Insurance Brokers|"
    "Estate Agents|Property Services|Facilities Management|Maintenance|Air Conditioning|"
    "Refrigeration|Heating|Gas Services|Solar|Energy|Fuels|Oils|Paints|Decorators|"
    "Plastering|Drainage|Surveyors|Architects|Hire|Storage|Shredding|Translations",
    "|",
)

ADJECTIVES = _split(
    "Green Blue Red Silver Golden Black White Royal Northern Southern Eastern Western Central "
    "Coastal Highland Valley Rapid Bright Clear Prime First Premier Grand Little Old New Modern "
    "Classic Urban Rural Metro Global National United Allied Summit Pinnacle Crystal Diamond "
    "Emerald Oak Maple Cedar Willow Copper Iron Stone Harbour River Lake Meadow Hill Forest "
    "Sunrise Sunset Evergreen Heritage Liberty Pioneer Apex Atlas Vertex Horizon Keystone"
)

NOUNS = _split(
    "Valley Ridge Bridge Gate Tower Field Harbour Bay Point Park Lane Street Square Mill Barn "
    "Orchard Garden Grove Leaf Birch Oak Pine Fern Rose Thistle Acorn Anchor Arrow Beacon Bell "
    "Compass Crown Falcon Fox Hawk Heron Kite Lion Otter Owl Raven Robin Stag Swan Wolf Star "
    "Moon Sun Comet Wave Tide Spring Stream Brook Well Rock Quarry Forge Anvil Hammer Kettle "
    "Lantern Ladder Key Shield Sail Mast Wheel Spoke Thread Needle Loom Quill Ink Slate Chalk"
)

PLACES = _split(
    "Bristol Leeds Manchester Birmingham Glasgow Edinburgh Cardiff Belfast London Oxford Bath "
    "York Norwich Exeter Plymouth Brighton Kent Surrey Devon Cornwall Essex Yorkshire Highland "
    "Thames Severn Mersey Pennine Cotswold Chiltern Dublin Cork Galway Sydney Melbourne Brisbane "
    "Perth Adelaide Auckland Wellington Christchurch Toronto Vancouver Boston Denver Austin "
    "Portland Seattle Chicago Dallas Phoenix Atlanta Northside Southside Eastside Westside "
    "Riverside Lakeside Hillside Harbourside Midtown Uptown Downtown Bayview Parkside Tri-County"
)

SYLLABLES = _split(
    "zen tri nova lux vex cor tek dyn max pro syn gen qua tra vel ori ax ion ex sol ter mar "
    "ven cal dor fin lin net par ren sig tor ul vor zy kin ly ra mo ta ko ri"
)

BRAND_WORDS = _split(
    "Solutions|Systems|Technologies|Group|Holdings|Industries|Labs|Partners|Ventures|Global|"
    "International|Enterprises|Networks|Digital|Analytics|Dynamics|Logistics|Supplies",
    "|",
)

NUMBERED = (
    "Unit {n} {trade}",
    "Studio {n} {trade}",
    "{noun} {n} {trade}",
    "Route {n} {trade}",
    "{n}{suffix} Choice {trade}",
    "A{n} {trade}",
    "{place} {n} {trade}",
    "Plot {n} {trade}",
    "{n} {adjective} {noun}",
    "Dock {n} {trade}",
)

FOREIGN = (
    ("Boulangerie {surname}", ("SARL", "SAS", "S.A.")),
    ("Café {surname}", ("SARL", "SAS", "EURL")),
    ("Transports {surname}", ("SARL", "SAS", "S.A.")),
    ("Bäckerei {surname}", ("GmbH", "KG", "GmbH & Co. KG")),
    ("{surname} Bau", ("GmbH", "AG", "GmbH & Co. KG")),
    ("{surname} Elektrotechnik", ("GmbH", "AG")),
    ("{surname} Installatiebedrijf", ("B.V.",)),
    ("{surname} Byggservice", ("AB", "AS", "ApS")),
    ("{surname} Trælast", ("A/S", "ApS")),
    ("{surname} Rakennus", ("Oy",)),
    ("Ferretería {surname}", ("S.L.", "S.A.")),
    ("Trasporti {surname}", ("S.r.l.", "S.p.A.")),
    ("{surname} Shōji", ("K.K.", "Co., Ltd.")),
)

LEGAL_FORMS = (
    ("Ltd", 18),
    ("Limited", 8),
    ("Ltd.", 4),
    ("LLC", 8),
    ("Inc", 6),
    ("Inc.", 4),
    ("Corp", 2),
    ("Corporation", 1),
    ("Co.", 2),
    ("Company", 1),
    ("PLC", 1),
    ("LLP", 2),
    ("Pty Ltd", 6),
    ("Pty. Ltd.", 1),
    ("", 35),
)

# Other spellings of the same legal form, as a bill might print it.
EQUIVALENT_FORMS = {
    "Ltd": ("Limited", "Ltd.", "LTD"),
    "Ltd.": ("Ltd", "Limited"),
    "Limited": ("Ltd", "Ltd."),
    "LLC": ("L.L.C.", "llc"),
    "Inc": ("Inc.", "Incorporated"),
    "Inc.": ("Inc", "Incorporated"),
    "Corp": ("Corporation", "Corp."),
    "Corporation": ("Corp", "Corp."),
    "Co.": ("Company", "Co"),
    "Company": ("Co.", "Co"),
    "PLC": ("plc", "P.L.C."),
    "LLP": ("L.L.P.",),
    "Pty Ltd": ("Pty. Ltd.", "Pty Limited", "PTY LTD"),
    "Pty. Ltd.": ("Pty Ltd", "Pty Limited"),
    "SARL": ("S.A.R.L.",),
    "GmbH": ("GMBH",),
    "B.V.": ("BV",),
    "S.A.": ("SA",),
    "A/S": ("AS",),
}
_SUFFIXES = sorted(
    {
        *EQUIVALENT_FORMS,
        *(form for forms in EQUIVALENT_FORMS.values() for form in forms),
        *(form for _, forms in FOREIGN for form in forms),
        *(form for form, _ in LEGAL_FORMS if form),
    },
    key=len,
    reverse=True,
)


def _coined(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize()


def _initials(rng: random.Random) -> str:
    letters = rng.sample(string.ascii_uppercase, rng.choice((2, 2, 3)))
    style = rng.randrange(4)
    if style == 0:
        return ".".join(letters) + "."
    if style == 1 and len(letters) == 2:
        return f"{letters[0]} & {letters[1]}"
    return "".join(letters)


def _numbered(rng: random.Random, surname: str, trade: str) -> str:
    n = rng.choice((rng.randint(1, 12), rng.randint(1, 99), rng.randint(100, 999)))
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10 if n % 100 not in (11, 12, 13) else 0)
    pattern = rng.choice(NUMBERED)
    return pattern.format(
        n=n,
        suffix=suffix or "th",
        trade=trade,
        noun=rng.choice(NOUNS),
        place=rng.choice(PLACES),
        adjective=rng.choice(ADJECTIVES),
    )


def _foreign(rng: random.Random, surname: str, trade: str) -> tuple[str, tuple[str, ...]]:
    """A foreign name, with the legal forms it must take."""
    pattern, forms = rng.choice(FOREIGN)
    return pattern.format(surname=surname), forms


# The shapes of a name without its legal form, each with the upper bound of its share of
# 100 (the shares are the bound minus the one before): f(rng, surname, trade) -> the name,
# or (the name, the legal forms it must take).
SHAPES: list[tuple[int, Callable[[random.Random, str, str], str | tuple]]] = [
    (22, lambda rng, surname, trade: f"{surname} {trade}"),
    (
        30,
        lambda rng, surname, trade: (
            f"{surname} & {rng.choice(SURNAMES)}{rng.choice(('', ' ' + trade))}"
        ),
    ),
    (
        35,
        lambda rng, surname, trade: (
            f"{surname} {rng.choice(('& Sons', 'Brothers', 'Bros', '& Daughters'))}"
        ),
    ),
    (50, lambda rng, surname, trade: f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {trade}"),
    (60, lambda rng, surname, trade: f"{rng.choice(PLACES)} {trade}"),
    (68, lambda rng, surname, trade: f"{_initials(rng)} {trade}"),
    (78, lambda rng, surname, trade: f"{_coined(rng)} {rng.choice(BRAND_WORDS)}"),
    (86, _numbered),
    (92, _foreign),
    (96, lambda rng, surname, trade: f"The {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {trade}"),
    (100, lambda rng, surname, trade: f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"),
]


def _core(rng: random.Random) -> tuple[str, tuple[str, ...] | None]:
    """A name without its legal form, and the legal forms it must take (None: any common one)."""
    surname, trade = rng.choice(SURNAMES), rng.choice(TRADES)
    shape = rng.randrange(100)
    made = next(make for bound, make in SHAPES if shape < bound)(rng, surname, trade)
    return made if isinstance(made, tuple) else (made, None)


def _name(rng: random.Random) -> str:
    core, forms = _core(rng)
    if forms is not None:
        return f"{core} {rng.choice(forms)}"
    form = rng.choices([f for f, _ in LEGAL_FORMS], weights=[w for _, w in LEGAL_FORMS])[0]
    return f"{core} {form}".rstrip()


def supplier_names(n: int, *, seed: int = 0) -> list[str]:
    """`n` distinct, realistic supplier names; no two share a normalised core."""
    rng = random.Random(seed)
    names: list[str] = []
    cores: set[str] = set()
    while len(names) < n:
        name = _name(rng)
        core = normalize(name).core
        if core not in cores:
            cores.add(core)
            names.append(name)
    return names


def suppliers(n: int, *, seed: int = 0) -> list[tuple[str, str]]:
    """`n` (supplier_id, name) pairs, as a connection's synced supplier list would give them."""
    return [(f"sup-{i:06d}", name) for i, name in enumerate(supplier_names(n, seed=seed))]


@dataclass(frozen=True)
class DerivedQuery:
    """A name as a bill might print it, and the supplier it means (None: not in the list)."""

    text: str
    expected_id: str | None
    kind: str  # "variant", "typo", "swap", "drop", "legal_form" or "no_match"


def split_legal_form(name: str) -> tuple[str, str]:
    """`name` without a trailing legal form it was generated with, and that form ("" if none)."""
    for form in _SUFFIXES:
        if name.endswith(" " + form):
            return name[: -len(form) - 1], form
    return name, ""


def _typo(rng: random.Random, words: list[str]) -> list[str] | None:
    positions = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not positions:
        return None
    i = rng.choice(positions)
    word = words[i]
    # Typos rarely hit the first letter: 1 in 20 here.
    j = rng.randrange(0 if rng.random() < 0.05 else 1, len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        word = word[:j] + word[j + 1 :]
    elif op == 1:
        word = word[:j] + rng.choice(string.ascii_lowercase) + word[j:]
    elif op == 2:
        word = (
            word[:j]
            + rng.choice(string.ascii_lowercase.replace(word[j].lower(), ""))
            + word[j + 1 :]
        )
    else:
        word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return [*words[:i], word, *words[i + 1 :]]


def _derive(rng: random.Random, name: str, kind: str) -> str | None:
    core, form = split_legal_form(name)
    words = core.split()
    if kind == "typo":
        typo = _typo(rng, words)
        return " ".join(typo) + (f" {form}" if form else "") if typo else None
    if kind == "swap":
        pairs = [i for i in range(len(words) - 1) if words[i].isalpha() and words[i + 1].isalpha()]
        if not pairs:
            return None
        i = rng.choice(pairs)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words) + (f" {form}" if form else "")
    if kind == "drop":
        joiners = {i for i, w in enumerate(words) if w in ("&", "and")}
        droppable = [
            i
            for i, w in enumerate(words)
            if i and len(words) >= 3 and w.isalpha() and not {i - 1, i, i + 1} & joiners
        ]
        if not droppable:
            return None
        del words[rng.choice(droppable)]
        return " ".join(words) + (f" {form}" if form else "")
    if kind == "legal_form":
        if not form:
            return f"{core} {rng.choice(('Ltd', 'Limited', 'LLC', 'Inc'))}"
        others = EQUIVALENT_FORMS.get(form)
        return f"{core} {rng.choice(others)}" if others and rng.random() < 0.7 else core
    # "variant": case, punctuation and a leading "The"
    the = name if name.startswith("The ") else f"The {name}"
    text = rng.choice((name.upper(), name.lower(), name.replace("&", "and"), the))
    return text.replace(".", "") if rng.random() < 0.5 else text


_KINDS = ("variant", "typo", "typo", "swap", "drop", "legal_form", "no_match")


def derive_queries(
    suppliers: Sequence[tuple[str, str]], n: int, *, seed: int = 0
) -> list[DerivedQuery]:
    """`n` queries for `suppliers`: derived names with their supplier's id, and names not listed.

    A "legal_form" query names a compatible form (an equivalent spelling, none, or one added
    where the supplier has none), so it should still match exactly.
    """
    rng = random.Random(seed)
    taken = {normalize(name).core for _, name in suppliers}
    fresh = random.Random(seed + 1_000_003)
    queries: list[DerivedQuery] = []
    while len(queries) < n:
        kind = rng.choice(_KINDS) if suppliers else "no_match"
        if kind == "no_match":
            name = _name(fresh)
            if normalize(name).core not in taken:
                queries.append(DerivedQuery(name, None, kind))
            continue
        supplier_id, name = rng.choice(suppliers)
        text = _derive(rng, name, kind)
        if text is not None:
            queries.append(DerivedQuery(text, supplier_id, kind))
    return queries
