"""Follow-up questions without a language model: fill in what the previous turn was about.

"and how many models did it release?" after "How many customers does Qwen have?" is searched as
"how many models did Qwen release?". The rules are fixed and visible (the chat shows the query it
searched), so the same conversation always searches the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Openers that only make sense as a continuation of the previous question.
_OPENERS = re.compile(
    r"^(?:and|also|but|so|then|plus|or|ok(?:ay)?|what about|how about|and what about|"
    r"and how about|what else about|anything else about)\b[\s,]*",
    re.IGNORECASE,
)
# "what about X?" asks the previous question again, about X.
_ABOUT = re.compile(r"^(?:and\s+)?(?:what|how)\s+about\s+", re.IGNORECASE)
# Pronouns that point back at the previous question's subject, with the form that replaces them.
_PRONOUNS = {
    "it": "{t}",
    "its": "{t}'s",
    "they": "{t}",
    "them": "{t}",
    "their": "{t}'s",
    "he": "{t}",
    "him": "{t}",
    "his": "{t}'s",
    "she": "{t}",
    "her": "{t}'s",
    "itself": "{t}",
    "themselves": "{t}",
}
_DEMONSTRATIVES = {"this", "that", "these", "those", "there"}
_POSSESSIVE = re.compile(r"['’]s$")
_WORD = re.compile(r"[\w][\w'’.\-+]*[\w+]|[\w]", re.UNICODE)
# Words that carry no topic: question words, auxiliaries, pronouns, frequent function words.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each else few for from
    further had has have having he her here hers herself him himself his how i if in into is it its
    itself just many me more most much my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were what
    when where which while who whom why will with would you your yours yourself yourselves tell
    please give list show explain describe say said know anything something ok okay plus""".split()
)
# A follow-up with this few words and no subject of its own ("why?", "since when?") leans on the
# previous turn.
SHORT_WORDS = 3
# At most this many topic terms are carried over, so the new question's own words still count.
MAX_TOPIC_TERMS = 4


@dataclass(frozen=True)
class Rewrite:
    """The text to search for a question, and whether the previous turn was used."""

    query: str
    follow_up: bool
    topic: str = ""  # the words carried over from the previous turn


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def entities(text: str) -> list[str]:
    """Names in a question: runs of capitalized words, acronyms and words with digits.

    The first word counts only when it is not an ordinary word ("How", "The").
    """
    out: list[str] = []
    run: list[str] = []
    for i, word in enumerate(_words(text)):
        word = _POSSESSIVE.sub("", word)
        marked = any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:])
        named = (word[:1].isupper() or marked) and word.lower() not in STOPWORDS
        if i == 0 and not marked:
            named = False  # "Summarize ...", "Name ...": a capital that only starts the sentence
        if named:
            run.append(word)
        else:
            if run:
                out.append(" ".join(run))
            run = []
    if run:
        out.append(" ".join(run))
    seen: set[str] = set()
    return [e for e in out if not (e.lower() in seen or seen.add(e.lower()))]


def content_words(text: str) -> list[str]:
    """The words of a text that are not stopwords, in order, without repeats."""
    seen: set[str] = set()
    out = []
    for word in _words(text):
        low = word.lower()
        if low not in STOPWORDS and low not in seen and not low.isdigit():
            seen.add(low)
            out.append(word)
    return out


def topic(previous: str) -> str:
    """What a previous question was about: its names, else its content words."""
    names = entities(previous)
    if names:
        return " ".join(names[:MAX_TOPIC_TERMS])
    return " ".join(content_words(previous)[:MAX_TOPIC_TERMS])


def _replace_pronoun(text: str, subject: str) -> str | None:
    """``text`` with its first back-pointing pronoun replaced by ``subject``, or None."""
    for m in re.finditer(r"\b[\w']+\b", text):
        form = _PRONOUNS.get(m.group(0).lower())
        if form is not None:
            return text[: m.start()] + form.format(t=subject) + text[m.end() :]
    return None


def rewrite(question: str, previous: str | None) -> Rewrite:
    """The text to search for ``question``, given the query searched for the previous turn.

    A question is a follow-up when there is a previous turn and the question opens with a
    continuation ("and ...", "what about ..."), points back with a pronoun ("it", "their") while
    naming no subject of its own, or is only a few words with no subject ("why?"). A follow-up
    gets the previous turn's subject: in place of its first pronoun, else before it.

    Args:
        question: the question as typed.
        previous: the query searched for the previous turn (already rewritten if it was itself
            a follow-up); None or blank when the conversation starts.

    Returns:
        A Rewrite; ``query`` is the question itself (stripped) when it is not a follow-up.
    """
    text = " ".join(str(question or "").split())
    previous = " ".join(str(previous or "").split())
    if not text or not previous:
        return Rewrite(text, False)
    words = [w.lower() for w in _words(text)]
    own_names = entities(text)
    opener = _OPENERS.match(text)
    about = _ABOUT.match(text)
    points_back = any(w in _PRONOUNS for w in words) or any(w in _DEMONSTRATIVES for w in words)
    short = len(words) <= SHORT_WORDS
    if not (opener or ((points_back or short) and not own_names)):
        return Rewrite(text, False)
    subject = topic(previous)
    if not subject:
        return Rewrite(text, False)
    rest = text[opener.end() :] if opener else text
    rest = rest[:1].upper() + rest[1:] if rest else rest
    if about:
        # "what about healthcare?" -> the previous question, now about healthcare.
        what = text[about.end() :].rstrip(" ?.!")
        return Rewrite(f"{what}: {previous}" if what else previous, True, previous)
    if not _words(rest):
        return Rewrite(previous, True, previous)  # "and?": the previous question again
    held = {w.lower() for w in _words(subject)}
    if held <= {_POSSESSIVE.sub("", w) for w in words}:
        return Rewrite(text, False)  # the question names the subject itself
    replaced = _replace_pronoun(rest, subject)
    if replaced is not None:
        return Rewrite(replaced, True, subject)
    return Rewrite(f"{subject}: {rest}", True, subject)
