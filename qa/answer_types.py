"""Answer types, the oldest trick of question answering: what kind of answer a question asks
for (a number, a date, an amount of money, a share, a name) and whether a text states one.

Every type ranks: a sentence that holds one scores higher (``AnswerTypes.rank``). Some also
decide whether a passage answers at all (``lacks``): a "when" question whose best passage
states no date is not answered there, however close its topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .lexicon import MATCH_FLOOR, Lexicon, words

_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_AUXILIARY = r"do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|may|might|must"
# "When" asks only when an auxiliary follows it ("When did it start?"); elsewhere it is a
# conjunction ("What do companies face when they build on it?").
ASKS_WHEN = re.compile(
    rf"\bwhen (?:{_AUXILIARY})\b|\b(?:what|which) (?:year|date|month|day|time|decade)s?\b|\bsince when\b"
    r"|\bhow long ago\b",
    re.I,
)
DATE = re.compile(
    rf"\b(?:1[5-9]|20)\d\d(?:s\b|\b)|\b(?:{_MONTHS})\b|\b(?:yesterday|today|tomorrow|recently)\b"
    r"|\b(?:last|this|next) (?:year|month|week|decade|quarter|spring|summer|autumn|fall|winter)\b"
    r"|\b(?:years?|months?|weeks?|days?|decades?) (?:ago|later|earlier)\b",
    re.I,
)
# "Which company ...", "Through which service ...", "What research organization ...", "Whose
# models ...": the answer names something. The kinds of thing that have names, and up to two
# words between (never an auxiliary: "What do robot makers use it for?" asks for no name).
_NAMED_KINDS = (
    r"company|companies|firms?|organi[sz]ations?|agency|agencies|institutions?|university|universities|"
    r"services?|products?|platforms?|brands?|models?|chips?|country|countries|city|cities|person|"
    r"(?:chip|auto|car)?makers?|manufacturers?|vendors?|publications?|newspapers?|outlets?|"
    r"rivals?|competitors?|partners?|hospitals?|banks?|schools?|colleges?|airlines?|retailers?|insurers?|"
    r"startups?|labs?|laborator(?:y|ies)|ministry|ministries|regulators?|languages?|states|provinces?"
)
# "Which company ..." and "Name some automakers ..." ask for the name of a kind of thing that has
# one: only a passage that names something answers them (AnswerTypes.needs_name). "Whose models ..."
# asks for a name too, but an owner can be answered by a description ("Western firms'"), so it
# only ranks. "Which kinds of organizations ...", "What type of company ..." ask for a
# description ("organizations lacking AI expertise"), not a name.
_SORT_OF = r"kinds?|types?|sorts?|categor(?:y|ies)|classes|forms?"
# "Please name ...", "Can you name ...": a request, as "Name ..." is.
_POLITE = r"(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
# "Tell me the ...", "Give me the ...": asks as "List the ..." and "Name the ..." do; "Tell me how
# banks use it" asks how.
_TELL_ME = r"(?:tell|give|show)\s+me(?!\s+(?:how|why|what|when|where|which|who|whether|if|about)\b)"
# "Show me what the article says schools use it for": "what" opens a clause; the kind after its
# verb is no kind asked for.
_SAYS = r"says|said|states|stated|reports|reported|writes|wrote|mentions|mentioned|claims|claimed|notes|noted"
ASKS_NAMED_KIND = re.compile(
    rf"\b(?:which|what)\s+(?!(?:{_SORT_OF})\s+of\b)(?:(?!(?:{_AUXILIARY}|{_SAYS})\b)[\w'-]+\s+){{0,3}}?"
    rf"(?:{_NAMED_KINDS})\b"
    rf"|^\W*{_POLITE}(?:name|list|identify|{_TELL_ME})\s+(?:[\w'-]+\s+){{0,4}}?(?:{_NAMED_KINDS})\b"
    # "What was the name of the first model ...?"
    rf"|\bname of\s+(?:[\w'-]+\s+){{0,4}}?(?:{_NAMED_KINDS})\b",
    re.I,
)
_WHOSE = re.compile(r"\bwhose\b", re.I)
# A capitalized word, or one with a digit in it ("R1", "x86").
_NAME_WORD = re.compile(r"(?<![\w'])([A-Z][\w&.'-]*|[A-Za-z]*\d[\w-]*)")
_SENTENCE_OPENING = re.compile(r"^[\W\d]*$|:\s*$|[.!?][\"')\]]*\s+[\W\d]*$")
# A name in more than this share of the chunks is the corpus's topic ("Qwen" in an article
# about Qwen), not an answer.
TOPIC_SHARE = 0.25
# Capitalized, but dates rather than names.
_CALENDAR = frozenset(
    (_MONTHS + "|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday").lower().split("|")
)


# "Which Chinese chipmaker ...", "Which US chipmaker ...": where a named thing is from. A name
# beside another origin ("NVIDIA and other US manufacturers") or one itself ("Japan", "European
# Union") is no answer to a question about a Chinese one. Capitals as written: "US", not "us".
ORIGINS = {
    "chinese": r"\b(?:Chinese|China|Beijing|PRC)\b",
    "us": r"\b(?:US|U\.S\.|American|America|United States|Washington)\b",
    "european": r"\b(?:European|Europe|EU|E\.U\.|Brussels)\b",
    "british": r"\b(?:British|Britain|UK|U\.K\.|London)\b",
    "german": r"\b(?:German|Germany|Berlin)\b",
    "french": r"\b(?:French|France|Paris)\b",
    "japanese": r"\b(?:Japanese|Japan|Tokyo)\b",
    "korean": r"\b(?:Korean|Korea|Seoul)\b",
    "taiwanese": r"\b(?:Taiwanese|Taiwan|Taipei)\b",
    "indian": r"\b(?:Indian|India)\b",
    "western": r"\b(?:Western|the West)\b",
}
_ORIGIN = {
    name: re.compile(pattern, re.I if name not in ("us", "european", "british") else 0)
    for name, pattern in ORIGINS.items()
}
_WESTERN = frozenset(("us", "european", "british", "german", "french", "western"))
# How many characters on either side of a name may say where it is from.
ORIGIN_WINDOW = 40


# "Which government agency in China ...": where it is from, said after the kind.
_ORIGIN_AFTER = re.compile(
    r"\s+(?:(?:based|located)\s+)?(?:in|from|of)\s+(?:the\s+)?[\w.]+(?:\s+[A-Z][\w.]*)?"
)


def asked_origin(text: str, m: re.Match | None) -> str | None:
    """Where the named thing a question asks for (``m``, its asked_kind) is from ("Which Chinese
    company ...", "Which agency in China ..."), if it says."""
    if m is None:
        return None
    after = _ORIGIN_AFTER.match(text, m.end())
    said = m.group(0) + (after.group(0) if after else "")
    return next((name for name, pattern in _ORIGIN.items() if pattern.search(said)), None)


def _other_origin(asked: str, text: str) -> bool:
    """Whether text says an origin that cannot be the one asked about (Western includes US)."""
    western = asked in _WESTERN
    return any(
        name != asked
        and not (western and name in _WESTERN and "western" in (name, asked))
        and pattern.search(text)
        for name, pattern in _ORIGIN.items()
    )


# "via its Model Studio", "Alibaba's Qwen platform": a name after a possessive (and the capitalized
# words of the same name) is something the owner has, a product or a service, not the company,
# hospital or country a "which companies ..." question asks for (NamesOther ``owned``).
_OWNED = re.compile(r"(?:\b(?:its|their|his|her|our)|\w's)\s+(?:[A-Z][\w&.'-]*\s+)*$")
# The named kinds an owned name does answer ("Which platform does it sell through?").
_OWNABLE_KINDS = re.compile(r"\b(?:services?|products?|platforms?|brands?|models?|languages?)\b", re.I)


# Kinds whose names are never a country's: "Which specific NVIDIA chip models are Chinese firms
# barred from buying?" is not answered by "investments by the United States and Japan" (three
# gold sets asked it). A country can be a rival, a partner, a regulator or a state.
_PLACELESS_KINDS = re.compile(
    r"\b(?:company|companies|firms?|universit(?:y|ies)|services?|products?|platforms?|brands?|models?|chips?|"
    r"(?:chip|auto|car)?makers?|manufacturers?|vendors?|publications?|newspapers?|outlets?|hospitals?|"
    r"banks?|schools?|colleges?|airlines?|retailers?|insurers?|startups?|labs?|laborator(?:y|ies)|languages?)$",
    re.I,
)


# "Explain what Model Studio does ...": a kind word capitalized before another capitalized word
# begins a name ("Model Studio"); it is not the kind asked for.
_BEGINS_NAME = re.compile(r"[A-Z][\w'-]*\s+[A-Z]")


def asked_kind(text: str) -> re.Match | None:
    """The ASKS_NAMED_KIND match of a question, unless its kind word begins a name."""
    for m in ASKS_NAMED_KIND.finditer(text):
        if not _BEGINS_NAME.match(text, m.end() - len(m.group().split()[-1])):
            return m
    return None


def asks_name(text: str, kind: re.Match | None) -> bool:
    """Whether a question asks for a name, so that a sentence naming something ranks higher: a
    kind of thing that has one (``kind``, its asked_kind), or "Whose models ..."."""
    return kind is not None or bool(_WHOSE.search(text))


def _asks_owned(text: str, kind: re.Match) -> bool:
    """Whether an owned name answers the named kind asked for: a product or the like ("Which
    platform ..."), or what a named thing has ("Which company's model family ...")."""
    return bool(_OWNABLE_KINDS.search(kind.group()) or re.match(r"['’]s?\b|s['’]", text[kind.end() :]))


class NamesOther:
    """Matches a sentence that names something the question does not (asks_name's answer type).

    A capitalized word counts unless it opens the sentence (there any word is capitalized; a
    word with a second capital or a digit, "IAPP" or "R1", still counts), is one of the
    question's words, a month or a weekday, a bare number, or is in more than TOPIC_SHARE of
    the chunks; and, when the question says where the thing is from (``origin``), unless it
    or the ORIGIN_WINDOW around it says another origin. A country, or a word saying where
    something is from, names no model, company or product (``places=False``, _PLACELESS_KINDS).
    """

    def __init__(
        self,
        question_words: list[str],
        lexicon: Lexicon,
        origin: str | None = None,
        owned: bool = True,
        places: bool = True,
    ) -> None:
        self.known = frozenset(question_words)
        self.lexicon = lexicon
        self.origin = origin
        self.owned = owned
        self.places = places

    def search(self, text: str) -> bool:
        countries = [] if self.places else _country_spans(text)
        for m in _NAME_WORD.finditer(text):
            if any(start <= m.start() < end for start, end in countries):
                continue
            word = m.group(1)
            base = re.sub(r"'s$", "", word).strip(".'-").lower()
            if (
                not base
                or base in self.known
                or base in _CALENDAR
                or base.replace(",", "").replace(".", "").isdigit()
            ):
                continue
            if _SENTENCE_OPENING.search(text[: m.start()]) and not re.search(r"[A-Z\d]", word[1:]):
                continue
            if not self.owned and _OWNED.search(text[: m.start()]):
                continue
            i = self.lexicon.ids.get(base)
            if i is not None and self.lexicon.df[i] > TOPIC_SHARE * self.lexicon.n_docs:
                continue
            if self.origin is not None and _other_origin(
                self.origin, text[max(0, m.start() - ORIGIN_WINDOW) : m.end() + ORIGIN_WINDOW]
            ):
                continue
            return True
        return False


# "Which countries outside China have the most users?", "What country is it based in?": the
# name asked for is a country's, which a passage naming only other things (a product, a
# company) does not give. Not "Which kinds of countries ...", which asks for a description.
ASKS_COUNTRY = re.compile(
    rf"\b(?:which|what)\s+(?!(?:{_SORT_OF})\s+of\b)(?:(?!(?:{_AUXILIARY})\b)[\w'-]+\s+){{0,2}}?"
    r"(?:countries|country|nations?)\b",
    re.I,
)
# Everyday names pycountry does not list ("Russian Federation" is "Russia" in prose).
_COUNTRY_ALIASES = ("Russia", "America", "Britain", "Great Britain", "US", "U.S.", "USA", "UK", "U.K.")
# Where-from words that name a country ("American", "Japanese"); "Western" and "European" do not.
_NOT_COUNTRIES = frozenset(("western", "european"))


@lru_cache(maxsize=1)
def _country_names() -> dict[str, tuple[str, ...]]:
    """Country names as prose writes them, by their first word, longest first: pycountry's
    names, common and official names (not its inverted "Korea, Republic of" forms), and
    _COUNTRY_ALIASES."""
    import pycountry

    names = {
        name
        for country in pycountry.countries
        for name in (getattr(country, a, None) for a in ("name", "common_name", "official_name"))
        if name and "," not in name
    }
    names.update(_COUNTRY_ALIASES)
    by_first: dict[str, list[str]] = {}
    for name in sorted(names, key=len, reverse=True):
        by_first.setdefault(name.split()[0], []).append(name)
    return {first: tuple(group) for first, group in by_first.items()}


_CAPITALIZED = re.compile(r"(?<![\w.])[A-Z][\w.]*")
# ORIGINS that are countries, in one pattern (one pass over a text, not one per origin).
_COUNTRY_ORIGINS = re.compile(
    "|".join(
        f"(?P<{name}>{pattern if name in ('us', 'european', 'british') else f'(?i:{pattern})'})"
        for name, pattern in ORIGINS.items()
        if name not in _NOT_COUNTRIES
    )
)


def _country_names_in(text: str) -> Iterator[tuple[str, int, int]]:
    """The country names text writes out, with where each starts and ends."""
    names = _country_names()
    for m in _CAPITALIZED.finditer(text):
        for name in names.get(m.group().rstrip("."), ()) + names.get(m.group(), ()):
            end = m.start() + len(name)
            if text.startswith(name, m.start()) and (end == len(text) or not text[end].isalnum()):
                yield name, m.start(), end
                break


def _countries_in(text: str) -> set[str]:
    """The countries text names: by name (as written), or by a where-from word (ORIGINS' key)."""
    named = {name for name, _, _ in _country_names_in(text)}
    return named | {m.lastgroup for m in _COUNTRY_ORIGINS.finditer(text)}


def _country_spans(text: str) -> list[tuple[int, int]]:
    """Where text names a country or says where something is from ("United States", "Japanese")."""
    return [(start, end) for _, start, end in _country_names_in(text)] + [
        m.span() for m in _COUNTRY_ORIGINS.finditer(text)
    ]


class NamesCountry:
    """Matches a text that names a country the question does not (ASKS_COUNTRY's answer)."""

    def __init__(self, question: str) -> None:
        self.asked = frozenset(_countries_in(question))

    def search(self, text: str) -> bool:
        return bool(_countries_in(text) - self.asked)


# A word a question capitalizes, past its sentence's first word ("such as Huawei Ascend", "GPT-4",
# "x86"), is a name it relies on; answer.unknown_name tells whether the documents
# mention it, or anything close to it, at all. A question in title case names nothing this way.
_QUESTION_SENTENCE_START = re.compile(r"(?:^|[.?!:]\s+)\W*$")


# "I'm a PhD student in AI policy. How does ...?", "As an analyst at Acme Capital, ...": who is
# asking, up to the end of that clause. Its names are not what the question relies on.
_ASKER = re.compile(
    r"\b(?:(?:I'm|I am|We're|We are|As)\s+(?:a|an)|I work\s+(?:at|for|with|in)|I'm\s+(?:at|with|from))\b"
    r"[^.?!:;,—–-]*",
    re.I,
)


def question_names(text: str, qwords: list[str]) -> tuple[tuple[str, str], ...]:
    """The names a question capitalizes: (content word, as written), each once, in order."""
    # "What Is The Revenue Of Acme?": capitals mark no name when function words have them too.
    if len(re.findall(r"(?<=\w )(?:Is|Are|The|Of|And|Or|For|To|In|On|A|An|At|By|With|Do|Does)\b", text)) >= 2:
        return ()
    found: dict[str, str] = {}
    known = set(qwords)
    asker = [m.span() for m in _ASKER.finditer(text)]
    for m in _NAME_WORD.finditer(text):
        if _QUESTION_SENTENCE_START.search(text[: m.start()]):
            continue
        if any(start <= m.start() < end for start, end in asker):
            continue
        # Parts of three characters or more: "E.U." splits into letters that name nothing alone,
        # and two-letter capitals are mostly common abbreviations ("ML", "AI", "HR") that word
        # vectors place poorly ("a startup with no ML team" is answered by "lacking AI expertise").
        for part in re.findall(r"\w{3,}", m.group(1)):
            word = part.lower()
            if (part[0].isupper() or any(c.isdigit() for c in part)) and word in known and not word.isdigit():
                found.setdefault(word, part)
    return tuple(found.items())


# A question about an amount of money (a price, a cost, a revenue) is answered only by a passage
# that states one, in a currency or as free: when the best passage has none, the documents do
# not say, however close its topic.
_MAGNITUDE_WORDS = r"billions?|millions?|trillions?|thousands?|hundreds?"
_MONEY_VERBS = (
    r"cost|costs|charge|charges|charging|charged|pay|pays|paying|paid|spend|spends|spending|spent|earn|earns|"
    r"earning|earned|invest|invests|investing|invested|raise|raised|raising|worth"
)
ASKS_MONEY = re.compile(
    rf"\bhow much\b(?:\s+\S+){{0,10}}?\s+(?:{_MONEY_VERBS}|sell|sells|sold|price|priced)\b"
    r"|\bhow much (?:money|revenue|profit|income|funding|cash|capital)\b"
    r"|\bhow (?:expensive|costly|cheap)\b"
    r"|\bwhat (?:does|do|did) (?:\S+\s+){1,10}?(?:cost|charge|pay)\b(?! attention)"
    r"|\bwhat (?:is|was|are|were) (?:(?:the|its|their|\S+'s|\S+s'|(?-i:[A-Z][\w&.-]*))\s+){0,4}"
    # "What is Alibaba's annual revenue ...?": up to two words that say which amount ("opportunity
    # cost" is none)
    r"(?:(?:annual|yearly|monthly|quarterly|total|net|gross|average|current|estimated|expected|"
    r"approximate|overall|operating|starting|typical|latest|reported)\s+){0,2}(?:price|prices|cost|costs|fee|fees|"
    r"revenue|revenues|profit|profits|salary|valuation|budget|turnover|fine|fines)\b"
    # ... the amount itself, not a "revenue model" or a "cost driver"
    r"(?!\s+(?!(?:of|for|from|in|to|at|per|on|and|or|as|by|with|last|this|next|each|a|an|the|"
    r"today|now|nowadays|currently|right|exactly|so|overall|annually|yearly|monthly|like)\b)[a-z])"
    r"|\bin (?:dollar|euro|yuan|rmb|monetary|cash) terms\b"
    r"|\b(?:dollar|euro|yuan|rmb) (?:figures?|amounts?|values?|sums?)\b|\bin (?:us )?(?:dollars|euros|yuan)\b"
    r"|\bwhat (?:\S+\s+){0,2}?(?:fines|penalties)\b"
    # "What revenue did it report?", "What fees does it charge?"; "the price Model Studio charges"
    rf"|\bwhat (?:\S+\s+){{0,2}}?(?:revenues?|profits?|prices?|fees?|salar(?:y|ies)|valuations?)\s+(?:{_AUXILIARY})\b"
    r"|\b(?:prices?|fees?|rates?)\b(?:\s+\S+){0,4}?\s+(?:charges|charged|costs)\b"
    # "qwen api price per million tokens"
    r"|\b(?:prices?|costs?|fees?|pricing)\s+per\b"
    r"|\bhow (?:large|big|high|steep) (?:is|are|was|were) (?:the |its |their )?(?:fines?|penalt(?:y|ies))\b"
    r"|\bmarket cap(?:itali[sz]ation)?\b|\bpricing\b|\b(?:stock|share) prices?\b"
    # A keyword query whose last word is an amount ("deepseek r1 training cost"), or that opens
    # with one ("cost of training r1"); an "opportunity cost" is none.
    r"|^(?!.*\b(?:what|which|who|whom|whose|how|why|when|where)\b)(?!.*\bopportunity costs?\W*$)"
    r".*\b(?:costs?|prices?|fees?|revenues?|valuation|salary|salaries)\W*$"
    r"|^\W*(?:the\s+)?(?:costs?|prices?|fees?)\s+(?:of|for|to)\b"
    # "How many billions is it spending?", "How many dollars does it charge?"
    rf"|\bhow many (?:(?:{_MAGNITUDE_WORDS}) (?:of )?)?(?:dollars|euros|yuan|renminbi|pounds|yen|rupees)\b"
    rf"|\bhow many (?:{_MAGNITUDE_WORDS})\b(?:\s+\S+){{0,8}}?\s+(?:{_MONEY_VERBS})\b",
    re.I,
)
MONEY = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?[$€£¥₹]"
    r"|\b(?:USD|EUR|GBP|CNY|RMB|JPY|INR|CHF|AUD|CAD)\b"
    r"|\b(?:dollars?|euros?|pounds? sterling|yuan|renminbi|yen|rupees?|francs?|cents?)\b"
    r"|\bfree(?:ly)?\b|\bno (?:extra )?(?:cost|charge)\b|\bcosts? nothing\b",
    re.I,
)
# "What is it likened to?", "Which technologies is it compared with?": the answer draws a
# comparison ("parallels X", "similar to how X", "as foundational as X"). "Compared with a year
# earlier" measures a change over time and asks for none ("By how much have API calls grown
# compared with a year earlier?" asks for a number).
_EARLIER = (
    r"(?:a|one|the) (?:year|month|quarter|week|decade) (?:earlier|before|ago)"
    r"|(?:the )?(?:prior|previous|preceding|same) (?:year|month|quarter|week|decade|period)|last (?:year|month|quarter)"
)
ASKS_COMPARISON = re.compile(
    rf"\b(?:compare[ds]?(?! (?:with|to) (?:{_EARLIER})\b)|comparisons?|comparable|likened|liken|similar|"
    r"parallel\w*|resembl\w+|analog\w*|akin|emulat\w*|imitat\w*|model(?:l)?ed (?:on|after))\b"
    # "What might it become as foundational as?": the question ends where the comparison's other side goes.
    r"|\bas [\w-]+ as\W*$",
    re.I,
)
# "Platforms like Qwen" gives an example: "like" after a plural compares only as "is like",
# "works like" and the like.
COMPARISON = re.compile(
    r"\b(?:(?<!\ws )like|(?:is|was|as|looks|seems|sounds|feels|works|acts) like|unlike|similar(?:ly)? to|"
    r"parallel\w*|resembl\w+|akin to|analogous|compared (?:to|with)|"
    r"comparable|just as|mirror(?:s|ed|ing)?|as (?!well\b|soon\b|long\b|far\b)\w+(?: [\w-]+){0,3} as)\b",
    re.I,
)
# A list of three or more ("robotics, healthcare, education and finance"). It counts its items
# ("How many sectors?" is answered by "Sectors: robotics, healthcare, education") and answers a
# question that asks for several things.
# Items are a word or two, or, after a colon, whole clauses ("benefits: it accelerates
# adoption by eliminating licensing costs, creates a community ..., and positions ...").
_ITEM = r"[\w'-]+(?: [\w'-]+)?"
LIST = re.compile(
    rf"(?:{_ITEM}, ){{2,}}(?:and |or )?[\w'-]+|(?:{_ITEM}, )+{_ITEM},? (?:and|or) [\w'-]+"
    r"|:\s*[^,:;.]+,[^,:;.]+,[^:;.]*\b(?:and|or)\b"
)
# "Which industries are its customers in?", "What kinds of infrastructure ...": a plural that
# which/what asks for is answered by several things, most often a list. It is the thing asked
# for only when an auxiliary (or the "of" of "kinds of") follows: in "What makes it ..." the
# word after "what" is a verb, and in "Which countries' spending ..." a possessive. "List the
# advantages ...", "Name its rivals": a plural an imperative asks for, unless it asks for one.
ASKS_LIST = re.compile(
    rf"\b(?:which|what)\s+(?:(?!(?:{_AUXILIARY})\b)[\w'-]+\s+){{0,2}}?[\w-]+s(?<!ss)(?<!us)(?<!is)"
    rf"(?:\s+(?:or|and)\s+[\w-]+)?\s+(?:{_AUXILIARY}|of)\b"
    rf"|^\W*{_POLITE}(?:list|name|enumerate|identify|mention|summari[sz]e|outline|{_TELL_ME})\s+(?!(?:a|an|one)\b)"
    r"(?:[\w'-]+\s+){0,3}?[\w-]+s(?<!ss)(?<!us)(?<!is)\b",
    re.I,
)
# "What are the drawbacks of ...?", "Why might businesses be uneasy about ...?": inside a passage
# on the topic, the sentence that turns against it ("However, it also creates uncertainty ...")
# states the drawback; one that names drawbacks in the abstract ("This model has advantages and
# risks.") only announces them. Such marks are in most passages of a corpus, so they choose the answer
# sentence within a passage and never rank passages (ranking with them put other passages'
# "but"s first: README, "How the defaults were chosen").
ASKS_DRAWBACK = re.compile(
    r"\b(?:drawbacks?|downsides?|disadvantages?|risks?|weakness(?:es)?|cons|concerns?|criticisms?|"
    r"negatives?|uneasy|worr(?:y|ied|ies)|pitfalls?|dangers?)\b",
    re.I,
)
# "Why is building domestic chips so important for China?", "Explain why ...": inside a passage
# on the topic, the sentence that gives a reason or a purpose ("This infrastructure strategy
# becomes particularly critical given ongoing technology restrictions ...") answers, not the one
# that names the topic best ("Supporting China's AI ambitions is continued massive investment in
# AI infrastructure ..."), which six gold sets' questions of this kind highlighted. Only among
# the passage's sentences nearly as close to the question as its closest (REASON_WITHIN): a
# "because" about something else ("... because it earns revenue whenever ...", 0.26 below
# "Industry analysts increasingly describe Alibaba's role as an 'AI kingmaker'") does not answer
# "Why do people call Alibaba a kingmaker?". Over twenty-two gold sets 0.12-0.25 score alike.
# A cause is a reason too: "This rapid catch-up reflects China's massive investments ..." answers
# "Why is China closing the gap so fast?".
ASKS_REASON = re.compile(
    r"^\W*why\b|\bexplain why\b|\bhow come\b|\bwhat (?:is|are) the reasons?\b"
    r"|\bwhy (?:is|are|was|were|does|do|did|has|have|would|should|can|could|might)\b",
    re.I,
)
REASON = re.compile(
    r"\b(?:because|given|due to|owing to|as a result of|driven by|thanks to|so that|in order to|"
    r"(?:aims? )?to ensure|critical|crucial|reflects?|reflecting|stems? from|results? from|fuel(?:s|ed) by)\b",
    re.I,
)
REASON_WITHIN = 0.15


# "Which company is it likened to, and why is the comparison made?": a why after another question
# is its second part, and the sentence that answers the first is the one to highlight.
_ASKED_BEFORE = re.compile(r"\b(?:which|what|who|whom|whose|when|where|how)\b", re.I)


def asks_reason_first(text: str) -> bool:
    """Whether a question asks why, and asks nothing before it (GivesReason then picks)."""
    m = ASKS_REASON.search(text)
    return m is not None and not _ASKED_BEFORE.search(text, 0, m.start())


@dataclass(frozen=True)
class GivesReason:
    """A pick: a sentence that gives a reason (``REASON``), if its similarity to the question is
    within ``within`` of its passage's closest sentence's (``answer._Candidates.ranked``)."""

    within: float = REASON_WITHIN

    def search(self, text: str) -> re.Match | None:
        return REASON.search(text)


DRAWBACK = re.compile(
    r"\b(?:however|but|although|though|yet|uncertain(?:ty)?|"
    r"unsure|vulnerab\w+|threat\w*|danger\w*)\b",
    re.I,
)
# "How long is the delay?", "How fast is it catching up?": a size, a speed or a span of time,
# which a passage may state in digits or in units without any ("from months to weeks, and
# sometimes days"). A unit inside "year-over-year" states none.
ASKS_MAGNITUDE = re.compile(r"\bhow (?:large|big|fast|long|far|soon)\b", re.I)
MAGNITUDE = re.compile(
    r"\d|(?<!-)\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?)\b(?!-)", re.I
)
# "By what factor did API usage grow?" asks for a multiple ("surged 15x", "a 15-fold increase",
# "doubled", "up 40%"), which a passage's other numbers are not: "290,000 customers ... as of
# January 2026" holds digits and no growth.
ASKS_MULTIPLE = re.compile(
    r"\bby what (?:factor|multiple)\b|\bhow many(?:-| )?fold\b"
    r"|\bhow many times (?:more|larger|bigger|higher|greater|faster|over)\b"
    # "How much have API calls gone up?", "By how much did usage grow?": a change, told as a
    # multiple or a percentage ("290,000 customers" is a number, but no growth).
    r"|\bhow much (?:\S+\s+){0,8}?(?:gone up|go up|grown|grow|grew|increased?|risen|rise|rose|jumped|"
    r"surged|climbed|expanded|soared|gone down|fallen|dropped|declined|shrunk)\b",
    re.I,
)
MULTIPLE = re.compile(
    r"(?<![\w.])\d[\d.,]*\s?(?:x|×|-?fold|%|percent\b|per cent\b)(?!\w)"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|twenty|hundred)(?:-| )?fold\b"
    r"|\b(?:doubl|tripl|quadrupl)(?:e|ed|es|ing)\b|\b\w+ times (?:more|larger|bigger|higher|greater|as)\b",
    re.I,
)
# "What does Alibaba gain from open-sourcing?", "How does it benefit from the usage data?": the
# answer names a benefit or an advantage, or what something is worth or makes possible. A
# sentence that does so while leaning on the one before ("This open-source approach generates
# multiple strategic benefits: ...") then loses nothing for it (answer.ANAPHOR_PENALTY).
ASKS_BENEFIT = re.compile(
    r"\b(?:gain|gains|gained|benefit\w*|advantage\w*|upsides?|pays? off|payoff|gets? out of|in it for)\b",
    re.I,
)
BENEFIT = re.compile(
    r"\b(?:benefit\w*|advantages?|upsides?|gains?|valuable|value|enables?|pays? off)\b", re.I
)
# "What do healthcare organizations use Qwen for?", "How are schools making use of the models?",
# "In what ways are carmakers building Qwen in?": the answer says what something is used for
# ("Healthcare providers deploy the technology for diagnostic support ..."), not that it is used
# ("290,000 customers ... deploying the company's models").
ASKS_USE = re.compile(
    r"\bwhat (?:do|does|did|are|is|were|was)\b.*\b(?:use|using|do|doing) (?:[\w'-]+ ){0,3}?(?:for|with)\b"
    r"|\bhow (?:are|is|do|does|were|was)\b.*\b(?:using|use|applying|apply|deploying|deploy|leveraging|"
    r"making use|putting)\b"
    r"|\bin what ways?\b|\buse cases?\b|\bwhat (?:for|tasks|purposes|functions)\b",
    re.I,
)
# What is used comes between the verb and what for ("apply it to fraud detection"): in "data
# Alibaba can use to improve Qwen" the data is used, and nothing says for what.
USED_FOR = re.compile(
    r"\b(?:use|uses|used|using|deploy|deploys|deployed|leverage|leverages|apply|applies|applied|integrate|"
    r"integrates|integrated|employ|employs|rely on|relies on)\b(?:\s+\S+){1,6}?\s+(?:for|to|into|in)\b"
    r"|\b(?:is|are|was|were|be|being|been) (?:used|deployed|applied|leveraged|employed) (?:for|in)\b",
    re.I,
)
# Question kind -> what its answer states, for ranking: a sentence that states it scores higher.
ANSWER_TYPES = (
    (
        re.compile(
            r"\bhow (?:many|much)\b|\bnumber of\b|\bwhat (?:percentage|share)\b"
            r"|\bby what (?:margin|percentage|amount|proportion)\b",
            re.I,
        ),
        re.compile(r"\d"),
    ),
    (ASKS_MULTIPLE, MULTIPLE),
    (ASKS_MAGNITUDE, MAGNITUDE),
    (ASKS_WHEN, DATE),
    (ASKS_MONEY, MONEY),
    (ASKS_COMPARISON, COMPARISON),
    (ASKS_LIST, LIST),
    (ASKS_BENEFIT, BENEFIT),
    (ASKS_USE, USED_FOR),
)
# A question about a share (a percentage, a proportion) is answered only by a passage that
# states one: a percentage, a fraction, "one in five". Any other number is no share ("290,000
# customers" says nothing of a market share).
_SHARE_WORD = (
    r"(?:share|percentage|proportion|fraction)\b(?!\s+(?:the|a|an|its|their|our|data|information|with)\b)"
)
ASKS_SHARE = re.compile(
    rf"\bwhat (?:percentage|percent|{_SHARE_WORD})"
    rf"|\bwhat (?:is|was|are|were) (?:(?:the|its|their|\S+'s|\S+s')\s+)?(?:[\w-]+\s+){{0,2}}?{_SHARE_WORD}"
    rf"|\bhow (?:big|large|much) (?:a|of a) {_SHARE_WORD}",
    re.I,
)
SHARE = re.compile(
    r"\d\s?%|\b(?:percent|per cent|percentage points?)\b"
    r"|\b(?:half|halves|thirds?|quarters?|fifths?|tenths?|majority|minority)\b"
    r"|\b(?:one|two|three|\d+) (?:in|out of|of every) (?:every )?(?:\d+|two|three|four|five|ten|hundred)\b",
    re.I,
)
# "What license are the models released under?": a license by name ("Apache 2.0", "MIT", "the
# Qwen License") or "licensed under ..."; "eliminating licensing costs" names none.
ASKS_LICENSE = re.compile(
    r"\b(?:what|which)\s+(?:\S+\s+){0,3}?licen[cs](?:es?|ing terms)\b|\bunder what (?:terms|licen[cs]e)\b"
    r"|\bhow (?:is|are|was|were)\s+(?:\S+\s+){1,10}?licen[cs]ed\b"
    r"|\blicen[cs]e\s+(?:type|kind|terms|name)\b|\b(?:type|kind|sort) of licen[cs]e\b",
    re.I,
)
LICENSE = re.compile(
    r"(?i:\blicen[cs]ed (?:under|as)\b|\bpublic domain\b|\bcreative commons\b)"
    r"|\b(?:Apache|MIT|GPL|LGPL|AGPL|BSD|MPL|CC[- ]BY|Unlicense|RAIL)\b"
    r"|\b[A-Z][\w.-]*\s+(?:Community\s+)?Licen[cs]e\b"
)
# "What is the latest Qwen model version?", "Which version of Python does it need?": the answer
# names a version ("Qwen2.5", "GPT-4", "R1", "v2", "version 3.1", "Python 3.10"), and a
# passage that names none (one on the platform the models run on) does not say which it is.
# "What does the new version add?" asks what it does, not which it is.
ASKS_VERSION = re.compile(
    r"\b(?:which\s+(?:\S+\s+){0,3}?|what\s+|name\s+of\s+(?:\S+\s+){0,5}?)versions?\b"
    r"(?!\s+(?:control|history|histories)\b)|\bversion\s+(?:number|name)\b"
    r"|\bwhat\s+(?:is|was|are|were)\s+(?:\S+\s+){0,8}?versions?(?:\s+(?:called|named))?\W*$",
    re.I,
)
VERSION = re.compile(
    r"\b[A-Za-z][A-Za-z-]*\d[\w.]*|(?i:\b(?:v|version|release)\s?\d+(?:\.\d+)*\b)"
    rf"|\b(?!(?:{_MONTHS})\b)[A-Z][A-Za-z]+ \d{{1,3}}(?:\.\d+)*\b(?![\d,])"
)
# "What was the revenue in 2025?": a question pinned to a year is answered only by a passage
# that mentions that year; a sentence that does ranks higher and is the one highlighted in its
# passage (a pick). A question about 2025 put to documents that mention only 2023 and 2026 is
# not answered by their closest passage.
ASKED_YEAR = re.compile(r"(?<![\w$€£¥.,])(?:FY\s?)?((?:1[5-9]|20)\d\d)(?![\w%]|[.,]\d)")


def mentions_year(year: str) -> re.Pattern:
    """A pattern finding ``year`` as a number of its own ("in 2025", "FY2025", not "12025")."""
    return re.compile(rf"(?<!\d){year}(?!\d)")


# "When will Qwen 4 come out?", "What does Article 5 prohibit?": a name with a number names one
# version (a release, an article of a law); a passage that mentions only the name ("Qwen
# models") or another number does not answer for it. The name is capitalized and not the first
# word of a sentence ("Top 10 ..."), the number has up to three digits (a year is ASKED_YEAR's),
# and a month before a number is a date ("January 2026").
ASKED_VERSION = re.compile(
    r"(?<![.?!:]\s)(?<=[\s(\"'])([A-Z][A-Za-z]+)[ -](\d{1,3}(?:\.\d+)*)(?![\w%]|[.,]\d)"
)


def asked_versions(text: str) -> tuple[str, ...]:
    """The names with a version number a question asks about ("Qwen 4"), as written."""
    return tuple(
        dict.fromkeys(m.group() for m in ASKED_VERSION.finditer(text) if m.group(1).lower() not in _CALENDAR)
    )


def mentions_version(version: str) -> re.Pattern:
    """A pattern finding ``version`` ("Qwen 4") as "Qwen 4", "Qwen-4", "Qwen4" or "Qwen v4", not
    "Qwen 4.5"."""
    name, number = re.split(r"[ -]", version, maxsplit=1)
    return re.compile(rf"\b{re.escape(name)}[\s-]?(?:v|version\s)?{re.escape(number)}(?!\w|[.,]\d)", re.I)


# "What does IAPP stand for?", "What is WTO short for?": the answer spells the abbreviation out,
# and a passage that only uses it ("Based on reporting from ... IAPP research") does not say what
# it stands for, however close its topic. The abbreviation is written in capitals.
ASKS_EXPANSION = re.compile(
    r"\b([A-Z][A-Z&]{1,9})\s+(?:stands?|stood)\s+for\b|\bis\s+([A-Z][A-Z&]{1,9})\s+short\s+for\b"
)


def spells_out(abbreviation: str) -> re.Pattern:
    """A pattern finding words whose capitals spell ``abbreviation`` ("International Association
    of Privacy Professionals" for IAPP; small linking words may sit between them)."""
    link = r"(?:\s+(?:of|and|for|the|on|in|to|&))*\s+"
    return re.compile(r"\b" + link.join(rf"{c}[\w'-]*" for c in abbreviation if c.isalpha()) + r"\b")


# Which of the types above decide `found`: a best passage that states none of what the question
# asks for (a date for "when", an amount for "how much does it cost") means the documents do
# not say, however close its topic. (Numbers are everywhere in most documents: "how many" is
# decided by the counted thing instead, see COUNTED.)
# "When do the EU AI Act's obligations come into force?", "When does the rule take effect?": the
# date a rule applies from, which a passage that never says a rule comes into force or effect
# does not give ("Since August 2023, Alibaba has open-sourced ...", "a major force in the
# open-source AI movement").
ASKS_IN_FORCE = re.compile(
    r"(?:\bwhen|\b(?:what|which) (?:year|date|month))\b(?:\s+(?!and\b)[^\s,;]+){0,12}?\s+"
    r"(?:(?:come|comes|came|coming|go|goes|went|enter|enters|entered)\s+into\s+(?:force|effect)"
    r"|(?:take|takes|took|taking)\s+effect)\b",
    re.I,
)
IN_FORCE = re.compile(
    r"\b(?:(?:come|comes|came|coming|go|goes|went|enter|enters|entered|entry|brought)\s+into\s+(?:force|effect)"
    r"|in\s+force|(?:take|takes|took|taking)\s+effect|effective\s+(?:from|on|as\s+of)"
    r"|(?:appl(?:y|ies)|enforced)\s+from)\b",
    re.I,
)
# "How many customers did Qwen have a year before the 290,000 figure?": a count at an earlier
# time is stated as one ("up from 100,000", "20,000 a year earlier"); a passage with today's
# count ("290,000 customers ... as of January 2026") does not give it.
ASKS_EARLIER_COUNT = re.compile(
    r"\bhow many\b(?:\s+\S+){0,14}?\s+(?:(?:a|one|the) (?:year|month|quarter) (?:before|earlier|prior|ago)"
    r"|(?:before|prior to) (?:the|these|this)\b(?:\s+\S+){0,3}?\s+(?:figures?|numbers?|counts?|totals?))\b",
    re.I,
)
EARLIER_FIGURE = re.compile(
    r"\b(?:up|rising|rose|grew|growing|increased|climbed|jumped) from\b|\bfrom [\d,.]+\+?\s+(?:\w+\s+)?(?:to|a year)\b"
    r"|\b[\d,.]+\+?\s+(?:\w+\s+){0,2}(?:a|one|the) (?:year|month|quarter) (?:earlier|before|ago|prior)\b"
    r"|\b(?:a|one) (?:year|month|quarter) (?:earlier|before|ago),?\s+(?:\w+\s+){0,4}[\d,.]+",
    re.I,
)
# "By what margin?", "By how much did API calls grow?": the answer is a figure ("15x", "doubled",
# "by a third"); a passage with none does not give it, nor do the digits of a name ("Qwen2.5").
ASKS_MARGIN = re.compile(
    r"\bby (?:how much|what (?:margin|amount|percentage|proportion|factor|multiple))\b", re.I
)
# A number of its own, in digits or words: not the digits of a name or version ("Qwen2.5", "COVID-19").
NUMERAL = re.compile(
    r"(?<![\w.-])\d[\w.,%-]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?|millions?|billions?|dozens?)\b",
    re.I,
)
# ... told as a number, a multiple or a fraction.
FIGURE = re.compile(
    "|".join((NUMERAL.pattern, MULTIPLE.pattern, r"\b(?:half|halved|third|quarter|twice|thrice)\b")), re.I
)
# A question that takes an event for granted ("Why did the EU ban Qwen under the AI Act?",
# "Given that Washington has banned ...", "What deal allowed Alibaba to resume buying NVIDIA's
# chips?", "Qwen has overtaken Llama - by what margin?") is answered only by a passage that
# mentions such an event: the documents' passage on the AI Act, however close, says nothing of a
# ban. A yes/no question asks whether it happened ("Did the US ban ...?") and is left alone.
# "Stop" is not among them: "Why did Alibaba stop keeping its models closed?" is answered by a
# "departure from the closed, proprietary approach".
_NOT_YES_NO = r"^(?!\W*(?:do|does|did|is|are|was|were|has|have|had|can|could|will|would|should)\b)"


def _assumes(verbs: str) -> re.Pattern:
    return re.compile(rf"{_NOT_YES_NO}[\s\S]*?\b(?:{verbs})\b", re.I)


EVENTS = (
    (
        _assumes("ban|bans|banned|banning"),
        re.compile(
            r"\b(?:ban\w*|prohibit\w*|restrict\w*|block\w*|forbid\w*|outlaw\w*|sanction\w*|embargo\w*)", re.I
        ),
        "mention of a ban",
    ),
    (
        _assumes("acquire|acquires|acquired|acquiring|merge|merges|merged|merging"),
        re.compile(r"\b(?:acqui\w*|bought|buys?|purchas\w*|takeover|took over|merg\w*)", re.I),
        "mention of an acquisition",
    ),
    (
        _assumes("lift|lifts|lifted|lifting|scrap|scraps|scrapped|scrapping"),
        re.compile(r"\b(?:lift\w*|scrap\w*|eas(?:e|ed|es|ing)\b|relax\w*|remov\w*|end(?:s|ed|ing)?\b)", re.I),
        "mention of lifting",
    ),
    (
        _assumes("partnership|partnerships|partnered|partnering|joint venture|collaborated|collaborating"),
        re.compile(r"\b(?:partner\w*|joint|collaborat\w*|alliance\w*|together with|teamed)", re.I),
        "mention of a partnership",
    ),
    (
        _assumes("resume|resumes|resumed|resuming|restart|restarts|restarted|restarting"),
        re.compile(r"\b(?:resum\w*|restart\w*|again|once more)", re.I),
        "mention of resuming",
    ),
    (
        _assumes(
            "overtake|overtakes|overtaken|overtook|overtaking|surpass|surpasses|surpassed|surpassing|outpace[sd]?"
        ),
        re.compile(r"\b(?:overt\w*|surpass\w*|outpac\w*|exceed\w*|ahead of|larger than|more than)", re.I),
        "mention of overtaking",
    ),
    (
        _assumes("fined|fines|fine(?!-)|sue|sued|sues|penali[sz]ed|penali[sz]es"),
        re.compile(r"\b(?:fine[sd]?\b(?!-)|fining|penal\w*|sue[sd]?\b|suing|lawsuits?|courts?\b)", re.I),
        "mention of a fine or lawsuit",
    ),
)
# What a question takes for granted rather than asks for, as its notice says.
ASSUMED = frozenset(what for _, _, what in EVENTS)
REQUIRED = (
    (ASKS_WHEN, DATE, "date"),
    (ASKS_MONEY, MONEY, "amount of money"),
    (ASKS_SHARE, SHARE, "percentage or share"),
    (ASKS_LICENSE, LICENSE, "license"),
    (ASKS_VERSION, VERSION, "version"),
    (ASKS_IN_FORCE, IN_FORCE, "date of entry into force"),
    (ASKS_EARLIER_COUNT, EARLIER_FIGURE, "earlier figure"),
    (ASKS_MARGIN, FIGURE, "figure"),
    *EVENTS,
)
# "How many customers ...", "the number of API calls": the counted thing is the first plural
# among the next three words ("Qwen customers", "API calls"), else the first word.
_COUNT_TOKEN = r"[\w'-]+(?:[.,]\d+)*"  # a word, or a number with its separators ("290,000")
COUNTED = re.compile(
    rf"\bhow many\s+((?:{_COUNT_TOKEN}\s+){{0,4}}{_COUNT_TOKEN})|\bnumber of\s+((?:{_COUNT_TOKEN}\s+){{0,4}}{_COUNT_TOKEN})",
    re.I,
)
# Words before the counted thing that are not it: "how many of the 290,000 customers".
_BEFORE_COUNTED = frozenset(("of", "the", "these", "those", "its", "their", "our", "your", "all"))
# "Of the 290,000 customers, how many are based outside China?" counts as "How many of the 290,000
# customers are based outside China?" does.
_FRONTED_OF = re.compile(r"^\W*of\s+((?:[\w',.+-]+\s+){0,4}?[\w'-]+s)\s*,\s*how many\b", re.I)
# "How many of its customers are based outside China?", "How many Qwen customers are in the
# finance sector?": the count asked for is of a part, and a number of the whole ("290,000
# customers across robotics, ...") does not give it. Group 1 is the preposition, group 2 the
# part; a content word of the part must be beside the number too.
_COUNTED_PART = re.compile(
    rf"\bhow many\s+(?:of\s+)?(?:{_COUNT_TOKEN}\s+){{0,3}}?[\w'-]+s\s+(?:(?:are|is|were|was)\s+)?(?:(?:located|based)\s+)?"
    r"(in|outside(?:\s+of)?|from|within)\s+((?:[\w'-]+\s*){1,4})",
    re.I,
)
# "What is its parameter count?", "In terms of user count, ...": the word before "count"; and
# a keyword query that ends on what it wants ("qwen customers number", "api call volume").
_NOUN_COUNT = re.compile(r"\b([\w'-]+)\s+(?:count\b(?!\s+on\b)|(?:number|volume|total)\W*$)", re.I)
# Counting words that name no thing of their own ("how many times", "how many billions"), and
# words whose "number" is an identifier ("version number").
_NOT_COUNTED = frozenset(
    {"times", "ways", "kinds", "types", "sorts", "billions", "millions", "trillions", "thousands", "hundreds"}
    | {"version", "phone", "serial", "page", "article", "issue", "reference", "account", "registration", "id"}
)
# A multiple or a share is no count: "How many API calls does it handle?" is not answered by
# "API calls surged 15x" (nor by "15-fold", "40%", "three times").
_MULTIPLE = re.compile(r"[\d.,]+\s?(?:x|×|-?fold|%)")
_MULTIPLE_AFTER = re.compile(r"[\s-]?(?:x|×|fold|percent|per cent|times)\b")
# How many content words on either side of a number (or a list) may name what it counts.
COUNT_WINDOW = 3
# "What benchmark scores did it achieve?", "its results on the MMLU benchmark": the answer is a
# number beside a score (a percentage is one), and a passage that states none does not give it,
# however close its topic ("demonstrated capabilities approaching Western frontier models").
# A group holds the word for the score ("scores", "benchmarks").
ASKS_SCORE = re.compile(
    r"\bbenchmarks?\b(?:\s+[\w'-]+){0,3}?\s+(scores?|results?|numbers?)\b"
    r"|\b(scores?|results?)\s+(?:on|in)\s+(?:\S+\s+){0,3}?benchmarks?\b"
    # "Does Qwen beat GPT-4 on benchmarks?", "Did R1 outperform Qwen on reasoning tests?"
    r"|\b(?:beat|beats|outperform\w*|outscore\w*|score[sd]?|perform\w*|rank\w*)\b(?:\s+\S+){0,6}?\s+(?:on|in|across)\s+"
    r"(?:\S+\s+){0,3}?(benchmarks?|leaderboards?|tests?|evals?|evaluations?)\b",
    re.I,
)


def score_word(text: str) -> str | None:
    """The word for the score a benchmark question asks for (ASKS_SCORE), lower-cased."""
    m = ASKS_SCORE.search(text)
    return next(g for g in m.groups() if g).lower() if m is not None else None


# "Who is the company's CEO?", "Who founded it?": the answer is a person in a role, and a
# passage that never mentions the role (or a word at least ROLE_FLOOR close to it: "chief
# executive" for "CEO", "founder" for "founded") does not say who holds it, however close its
# topic. Group 1 is a role, group 2 what someone in a role does, group 3 being in charge.
ASKS_ROLE = re.compile(
    r"\bwho(?:'s|\s+(?:is|was|are|were|will be|has been))\s+(?:\S+\s+){0,4}?"
    r"(ceos?|founders?|co-?founders?|chair(?:man|woman|person)?|president|chief|heads?|leaders?|directors?|"
    r"boss|spokes(?:person|man|woman)|owners?|inventors?|authors?|managers?|minister|mayor|governor|"
    r"executives?|officers?|officials?)\b"
    r"|\bwho\s+(founded|co-?founded|leads|led|heads|headed|runs|ran|owns|owned|invented|wrote|chairs|"
    r"manages|managed|directs|directed)\b"
    r"|\bwho(?:'s|\s+(?:is|was|are|were|will be|has been))\s+in\s+(charge)\b",
    re.I,
)
# "When was Alibaba founded?", "In what year was it established?": the date asked for is a
# founding's, and a passage that never mentions one (by ROLE_FLOOR, as a role) does not say
# when it was, whatever other dates it has.
ASKS_FOUNDING = re.compile(
    r"(?:\bwhen\b|\b(?:what|which) (?:year|date|month|decade)\b)(?:\s+\S+){1,10}?\s+"
    r"(founded|established|incorporated|born)\b",
    re.I,
)
# "When did it first launch Qwen?", "What year was R1 released?": likewise a past launch's date,
# which a passage that never mentions a launch or release does not give ("as of January 2026").
# Not "When will Qwen 4 be released?", which "Qwen 4 is due in March" answers.
_LAUNCH = r"launch|launched|release|released|introduce|introduced|unveil|unveiled|debut|debuted"
# The verb is in the same clause: "When did it start open-sourcing models, and how many has
# it released?" asks when the open-sourcing started.
ASKS_LAUNCH = re.compile(
    r"(?:\bwhen|\b(?:what|which) (?:year|date|month|decade))\s+(?:did|was|were|has|have|had)\b"
    rf"(?:\s+(?!and\b)[^\s,;]+){{0,10}}?\s+({_LAUNCH})\b",
    re.I,
)
# "Where is it headquartered?", "Which city are its data centers located in?": likewise a place
# of something, which a passage that never says where it sits does not give (_EXACT_ONLY).
ASKS_SEAT = re.compile(
    r"(?:\bwhere\b|\b(?:what|which) (?:city|cities|country|countries|town|region|province|state)\b)"
    r"(?:\s+\S+){1,10}?\s+(headquartered|located|based|situated)\b",
    re.I,
)
# A passage mentions a role when it has the question's word, one of these forms of it (the
# one who does what the verb says comes first), or a word at least ROLE_FLOOR close to it.
_ROLE_FORMS = {
    "founded": ("founder", "founders", "cofounder"), "cofounded": ("cofounder", "founder"),
    "leads": ("leader", "led"), "led": ("leader", "leads"),
    "heads": ("head", "headed"), "headed": ("head", "heads"), "runs": ("head", "ran"),
    "ran": ("head", "runs"), "owns": ("owner", "owned"), "owned": ("owner", "owns"),
    "invented": ("inventor",), "established": ("founded", "founder", "founding"),
    "incorporated": ("incorporation", "founded"), "born": ("birth",),
    "wrote": ("author", "written"), "chairs": ("chair", "chairman"),
    "manages": ("manager", "managed"), "managed": ("manager", "manages"),
    "directs": ("director", "directed"), "directed": ("director", "directs"),
    "charge": ("head", "heads", "headed", "leader", "leads", "led", "chief", "director", "manager", "runs"),
    **dict.fromkeys(_LAUNCH.split("|"), (*_LAUNCH.split("|"), "launches", "releases", "debuts", "available")),
    "headquartered": ("headquarters", "hq", "based"), "located": ("location", "situated", "based"),
    "based": ("headquartered", "headquarters", "located"), "situated": ("located", "location"),
}  # fmt: skip
# Words that count only as themselves or their _ROLE_FORMS: "headquartered" is 0.62 from
# "company" and "incorporated" 0.72 from "corporation".
_EXACT_ONLY = frozenset(("headquartered", "located", "based", "situated", "incorporated"))
# A "based" says where something sits as "based in/at" or after a capitalized place
# ("Hangzhou-based"), not in "Based on reporting from ..." or "cloud-based".
_BASED = re.compile(r"(\b[\w'-]+-)?\bbased\b(\s+(?:in|at|out\s+of)\b)?", re.I)


def _places_only(text: str) -> str:
    """text without the "based"s that say nothing of where something sits."""
    return _BASED.sub(lambda m: m.group() if m.group(2) or (m.group(1) or "")[:1].isupper() else " ", text)


# Word vectors put a role close to its synonyms ("CEO": executive 0.73, chairman 0.68) but
# also close to the company it belongs to ("CEO": corporation 0.61, company 0.56; "founded":
# company 0.56): MATCH_FLOOR (0.5) would let any passage about a company mention a CEO.
ROLE_FLOOR = 0.62
# What a passage must mention, and its name in the notice (None: the role, as the question says
# it, or the one who does what its verb says). A later match wins.
MENTIONED = (
    (ASKS_ROLE, None),
    (ASKS_FOUNDING, "founding date"),
    (ASKS_LAUNCH, "launch or release date"),
    (ASKS_SEAT, "location"),
)


# "What's the price ...?" is "What is the price ...?" to the patterns above.
_CONTRACTED_IS = re.compile(r"\b(what|where|when|how|which|who)['’]s\b", re.I)


@dataclass(frozen=True)
class AnswerTypes:
    """What a question asks for."""

    rank: tuple[re.Pattern | NamesOther | CountOf, ...] = ()  # a sentence holding one of these ranks higher
    pick: tuple[re.Pattern | GivesReason, ...] = ()  # ... is chosen within its passage, which ranks as before
    # What a passage must state, and its name
    required: tuple[tuple[re.Pattern | NamesCountry, str], ...] = ()
    counted: str | None = None  # what a "how many" question counts (one of its words)
    counted_vec: np.ndarray | None = None  # the counted word's vector
    # The part of it counted (_COUNTED_PART): as the question says it, its content words, their vectors
    part: tuple[str, tuple[str, ...], np.ndarray] | None = None
    scored: str | None = None  # the word for the score a benchmark question asks for (ASKS_SCORE)
    scored_vec: np.ndarray | None = None  # ... and its vector
    # What a passage must mention (ASKS_ROLE, ASKS_FOUNDING, ASKS_SEAT), named for the notice
    role: str | None = None
    role_word: str | None = None  # ... as one of its content words
    role_vec: np.ndarray | None = None  # ... and that word's vector
    names: tuple[tuple[str, str], ...] = ()  # question_names: (content word, as written)
    # A passage must name something (ASKS_NAMED_KIND), checked after the more telling types above.
    needs_name: NamesOther | None = None


def of_question(text: str, qwords: list[str], word_vecs: np.ndarray, lexicon: Lexicon) -> AnswerTypes:
    """The answer types of a question, given its content words and their vectors."""
    text = _CONTRACTED_IS.sub(r"\1 is", text)
    rank = tuple(answer for asks, answer in ANSWER_TYPES if asks.search(text))
    kind = asked_kind(text)
    origin = asked_origin(text, kind)
    rank += (NamesOther(qwords, lexicon, origin),) if asks_name(text, kind) else ()
    required = tuple((states, what) for asks, states, what in REQUIRED if asks.search(text))
    if ASKS_COUNTRY.search(text):
        required += ((NamesCountry(text), "name of a country"),)
    years = tuple(dict.fromkeys(ASKED_YEAR.findall(text)))
    rank += tuple(mentions_year(y) for y in years)
    required += tuple((mentions_year(y), f"mention of {y}") for y in years)
    # Required only: as a ranking bonus it lowered SciFact's train nDCG@10 (0.7368 -> 0.7346),
    # its claims naming "IL-10" or "Type 1", which BM25 already weighs.
    required += tuple((mentions_version(v), f"mention of {v}") for v in asked_versions(text))
    abbreviations = tuple(dict.fromkeys(a or b for a, b in ASKS_EXPANSION.findall(text)))
    rank += tuple(spells_out(a) for a in abbreviations)
    required += tuple((spells_out(a), f"spelling out of {a}") for a in abbreviations)
    asked_count = _FRONTED_OF.sub(r"how many of \1", text)
    counted = counted_word(asked_count, qwords)
    part = counted_part(asked_count, qwords, word_vecs, counted)
    vec = word_vecs[qwords.index(counted)] if counted is not None else None
    if counted is not None:
        # Numbers are everywhere: a count of the thing asked about ranks above the rest ("How
        # many customers use Qwen through Model Studio?": "over 290,000 customers ... via its
        # Model Studio" above "The Model Studio platform provides ...").
        modifiers = counted_modifiers(text, counted, qwords, word_vecs)
        rank += (CountOf(lexicon, counted, vec, part[1:] if part else None, modifiers),)
    scored = score_word(text)
    scored = scored if scored in qwords else None
    role = role_word = role_vec = None
    for asks, what in MENTIONED:
        m = asks.search(text)
        # The content word asked about: "founder" of "co-founder" (words() splits at the hyphen).
        word = re.findall(r"\w+", m.group(m.lastindex))[-1].lower() if m is not None else None
        if word in qwords:
            role_word, role_vec = word, word_vecs[qwords.index(word)]
            role = what or m.group(1) or _ROLE_FORMS.get(word, (word,))[0]
    pick = ((DRAWBACK,) if ASKS_DRAWBACK.search(text) else ()) + tuple(mentions_year(y) for y in years)
    pick += (GivesReason(),) if asks_reason_first(text) else ()
    needs_name = (
        NamesOther(
            qwords,
            lexicon,
            origin,
            owned=_asks_owned(text, kind),
            places=not _PLACELESS_KINDS.search(kind.group()),
        )
        if kind is not None
        else None
    )
    return AnswerTypes(
        rank=rank,
        pick=pick,
        required=required,
        counted=counted,
        part=part,
        counted_vec=vec,
        scored=scored,
        scored_vec=word_vecs[qwords.index(scored)] if scored is not None else None,
        role=role,
        role_word=role_word,
        role_vec=role_vec,
        names=question_names(text, qwords),
        needs_name=needs_name,
    )


def lacks(types: AnswerTypes, text: str, lexicon: Lexicon) -> str | None:
    """What the question asks for that text does not state ("date", "number of parameters",
    "CEO", "location", "name"; REQUIRED, COUNTED, ASKS_ROLE, ASKS_NAMED_KIND and the like), or None."""
    for states, what in types.required:
        if not states.search(text):
            return what
    if types.counted is not None and not states_count(
        lexicon, text, types.counted, types.counted_vec, part=types.part[1:] if types.part else None
    ):
        # "parameter count", "api call volume" name the counted thing in the singular
        counted = types.counted if types.counted.endswith("s") else f"{types.counted}s"
        return f"number of {counted}" + (f" {types.part[0]}" if types.part else "")
    if types.scored is not None and not states_count(
        lexicon, text, types.scored, types.scored_vec, scores=True
    ):
        return "score"
    if types.role_word is not None and not mentions(lexicon, text, types.role_word, types.role_vec):
        return types.role
    if types.needs_name is not None and not types.needs_name.search(text):
        return "name"
    return None


def mentions(lexicon: Lexicon, text: str, word: str, vec: np.ndarray) -> bool:
    """Whether text mentions ``word``, a role, a founding or a seat (ASKS_ROLE, ASKS_FOUNDING,
    ASKS_SEAT; ``vec`` is its vector)."""
    found = set(words(_places_only(text)))
    if word in found or found.intersection(_ROLE_FORMS.get(word, ())):
        return True
    return word not in _EXACT_ONLY and closest(lexicon, found, vec) >= ROLE_FLOOR


def closest(lexicon: Lexicon, candidates: Iterable[str], vec: np.ndarray) -> float:
    """The highest cosine between ``vec`` and the vocabulary's vectors of ``candidates`` (-1 for none)."""
    ids = np.array(sorted({lexicon.ids[w] for w in candidates if w in lexicon.ids}), dtype=np.int64)
    return float(np.max(lexicon.rows(ids) @ vec)) if len(ids) else -1.0


def counted_word(text: str, qwords: list[str]) -> str | None:
    """The thing a "how many" (or "X count") question counts, when it is one of its content words.

    A "why" question asks for a reason, whatever numbers it names ("Why is API growth more
    telling than the number of customers?").
    """
    if ASKS_REASON.search(text):
        return None
    m = COUNTED.search(text)
    if m is None:
        m = _NOUN_COUNT.search(text)
        word = m.group(1).lower() if m is not None else None
        return word if word in qwords and word not in _NOT_COUNTED else None
    # "How many of Qwen's customers", "How many of the 290,000 customers": "of", a possessive,
    # a determiner or a number name the whole, not the counted.
    following = [
        w
        for w in (m.group(1) or m.group(2)).lower().split()
        if w not in _BEFORE_COUNTED and not w.endswith("'s") and not w[0].isdigit()
    ][:3]
    if not following:
        return None
    plurals = [w for w in following if w.endswith("s") and not w.endswith("ss")]
    word = (plurals or following)[0]
    return word if word in qwords and word not in _NOT_COUNTED else None


def counted_part(
    text: str, qwords: list[str], word_vecs: np.ndarray, counted: str | None
) -> tuple[str, tuple[str, ...], np.ndarray] | None:
    """The part a count is of (_COUNTED_PART): as the question says it ("outside mainland China"),
    its content words and their vectors; None when the count is of a whole."""
    m = _COUNTED_PART.search(text) if counted is not None else None
    part = tuple(w for w in words(m.group(2)) if w in qwords and w != counted) if m is not None else ()
    if not part:
        return None
    return (
        f"{m.group(1).lower()} {m.group(2).strip(' ?.!')}",
        part,
        word_vecs[[qwords.index(w) for w in part]],
    )


def states_count(
    lexicon: Lexicon,
    text: str,
    counted: str,
    vec: np.ndarray,
    *,
    scores: bool = False,
    part: tuple[tuple[str, ...], np.ndarray] | None = None,
) -> bool:
    """Whether a number (or a LIST) in text counts ``counted`` (whose word vector is ``vec``);
    with ``scores``, whether a number in text is a score (ASKS_SCORE's word).

    The counted word, or a word as close to it as MATCH_FLOOR ("customers" for "businesses"),
    must be among the COUNT_WINDOW content words on either side of the number, and so must one
    of the ``part`` words (with their vectors) when the count is of a part. A multiple or a
    share ("15x", "40%") counts nothing, but is a score; a list is no score.
    """
    lowered = text.lower()
    numbers = [
        m
        for m in NUMERAL.finditer(lowered)
        if scores or (not _MULTIPLE.fullmatch(m.group()) and not _MULTIPLE_AFTER.match(lowered, m.end()))
    ]
    for m in (*numbers, *(() if scores else LIST.finditer(lowered))):
        near = words(lowered[max(0, m.start() - 80) : m.start()])[-COUNT_WINDOW:]
        near += words(lowered[m.end() : m.end() + 80])[:COUNT_WINDOW]
        if not (counted in near or closest(lexicon, near, vec) >= MATCH_FLOOR):
            continue
        if part is None or any(
            w in near or closest(lexicon, near, v) >= MATCH_FLOOR for w, v in zip(*part, strict=True)
        ):
            return True
    return False


def counted_modifiers(
    text: str, counted: str, qwords: list[str], word_vecs: np.ndarray
) -> tuple[tuple[str, np.ndarray], ...]:
    """The words that narrow what a "how many" question counts, with their vectors: "derivative"
    of "how many derivative models". Not a name (capitalized: "How many Qwen customers"), a
    determiner, a possessive or a number, which say whose, not what."""
    m = COUNTED.search(text)
    out = []
    for raw in (m.group(1) or m.group(2)).split() if m is not None else ():
        token = raw.lower().strip("?.,!;:")
        if counted in words(token):
            break
        if token in _BEFORE_COUNTED or token.endswith("'s") or token[:1].isdigit() or raw[:1].isupper():
            continue
        out += [(w, word_vecs[qwords.index(w)]) for w in words(token) if w in qwords]
    return tuple(out)


class CountOf:
    """Matches a sentence that states a count of what a "how many" question counts (ranked as
    an answer type of its own, on top of the number the sentence holds).

    The count must be of the counted thing (``states_count``), of the part asked for, and the
    sentence must hold each of the question's ``counted_modifiers`` or a word as close to it
    as MATCH_FLOOR: "over 300 models" is no count of "derivative models".
    """

    def __init__(
        self,
        lexicon: Lexicon,
        counted: str,
        vec: np.ndarray,
        part: tuple[tuple[str, ...], np.ndarray] | None,
        modifiers: tuple[tuple[str, np.ndarray], ...],
    ) -> None:
        self.lexicon = lexicon
        self.counted, self.vec = counted, vec
        self.part, self.modifiers = part, modifiers

    def search(self, text: str) -> bool:
        if not states_count(self.lexicon, text, self.counted, self.vec, part=self.part):
            return False
        have = set(words(text.lower()))
        return all(w in have or closest(self.lexicon, have, v) >= MATCH_FLOOR for w, v in self.modifiers)
