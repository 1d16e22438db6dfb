"""The scope step: decides what each cue means in its context, in the manner of ConText.

Modifier cues open a scope that runs forward to the end of the sentence or to a
terminator ("but", "though"):

- ``HEDGE`` ("maybe", "I wonder if", "might") marks later cues *hedged*, so a trait
  verdict becomes tentative; a hedge just after a cue ("…selfish, maybe") counts too.
- ``NEGATION`` ("not", "I wouldn't say") marks cues within a few tokens *negated*.
- ``REPORTED`` ("she said", "he goes", "my therapist") marks cues as someone else's words,
  as does a pair of quotation marks (*quoted*); an ``ENDORSE`` cue ("and she's right")
  later in the turn marks them *endorsed*.
- ``PSEUDO`` ("I feel like we should", "how do you feel about the plan?", "feel free", "I
  mean", "manage stress") marks an overlapping ``FEEL``, ``FEELING_QUESTION``,
  ``MENTAL_VERB`` or ``EMOTION`` cue *pseudo*: an opinion, a wish, a way of talking or a
  topic, not a feeling or a mind reasoned about.
- ``WEAK_HEDGE`` ("I guess", "I think", "kind of") softens reasoning about a mind but
  leaves a verdict or standing attitude certain ("I guess he doesn't like me").
- ``GENERIC`` ("people with", "it's normal to") marks a later emotion word *generic*:
  talk about people in general, not a named feeling; so does a fixed prediction in the
  same sentence ("I'll be lonely forever" is a verdict on a life, not a feeling now).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate

from spacy.attrs import ORTH, SENT_START
from spacy.language import Language
from spacy.strings import get_string_id
from spacy.tokens import Doc

from .batching import BatchComponent, named
from .cues import SPANS_KEY
from .extensions import register_extensions


def sentence_bounds(doc: Doc) -> list[tuple[int, int]]:
    """``(start, end)`` token offsets of each sentence, as ``doc.sents`` has them (read from the
    sentence starts, without a ``Span`` per sentence); the whole doc when none are set."""
    if not doc.has_annotation("SENT_START"):
        return [(0, len(doc))]
    if "sents" in doc.user_hooks:
        return [(sent.start, sent.end) for sent in doc.sents]
    flags = doc.to_array(SENT_START).tolist()
    starts = [0, *(i for i in range(1, len(flags)) if flags[i] == 1)]
    return list(zip(starts, [*starts[1:], len(doc)]))


MODIFIERS = frozenset({"HEDGE", "WEAK_HEDGE", "NEGATION", "REPORTED", "PSEUDO", "TERMINATOR", "ENDORSE", "GENERIC"})
VERDICTS = frozenset({"TRAIT", "MOTIVE", "STANCE", "GENERALISATION", "PREDICTION"})
"""Cue categories that a weak hedge ("I guess", "I think") leaves certain."""
_PSEUDO_TARGETS = frozenset({"FEEL", "MENTAL_VERB", "EMOTION", "FEELING_QUESTION"})
"""Cue categories a ``PSEUDO`` cue over the same words empties: "I feel like we should" and
"how do you feel about cutting down?" ask or give an opinion, "I mean" and "would you mind"
are ways of talking, not minds reasoned about, and "manage stress" or "stress relief" name
a topic, not anyone's feeling."""
_QUOTES = frozenset({'"', "“", "”", "‘", "’", "'", "``", "''"})
_QUOTE_IDS = frozenset(get_string_id(q) for q in _QUOTES)


class ScopeResolver(BatchComponent):
    """Mark each target cue hedged, negated, reported, quoted or pseudo.

    Args:
        spans_key: Where the cue detector stored its spans.
        negation_window: How many tokens after a negation it still applies.
        post_hedge_window: How many tokens after a cue a trailing hedge still softens it.
    """

    name = "mentalize_scope"

    def __init__(self, *, spans_key: str = SPANS_KEY, negation_window: int = 4, post_hedge_window: int = 3) -> None:
        register_extensions()
        self.spans_key = spans_key
        self.negation_window = negation_window
        self.post_hedge_window = post_hedge_window

    def __call__(self, doc: Doc) -> Doc:
        cues = list(doc.spans.get(self.spans_key, []))
        if not cues:
            return doc
        starts = [start for start, _ in sentence_bounds(doc)]
        sentence = [bisect_right(starts, c.start) - 1 for c in cues]
        quoted = self._quoted_tokens(doc)
        labels_of = [c.label_ for c in cues]
        # Every question below is answered by a binary search over sorted offsets, so the
        # step takes time linear in the number of cues (times a logarithm), however many
        # modifiers one long sentence holds.
        ends: dict[tuple[int, str], list[int]] = {}  # (sentence, label) -> where its modifiers end
        hedge_starts: dict[int, list[int]] = {}
        terminators: list[int] = []
        pseudo: list[tuple[int, int]] = []
        endorsed_until = -1
        for c, s, label in zip(cues, sentence, labels_of):
            if label not in MODIFIERS:
                continue
            ends.setdefault((s, label), []).append(c.end)
            if label == "HEDGE":
                hedge_starts.setdefault(s, []).append(c.start)
            elif label == "TERMINATOR":
                terminators.append(c.start)
            elif label == "PSEUDO":
                pseudo.append((c.start, c.end))
            elif label == "ENDORSE":
                endorsed_until = max(endorsed_until, c.start)
        for values in (*ends.values(), *hedge_starts.values(), terminators):
            values.sort()
        pseudo.sort()
        pseudo_starts = [start for start, _ in pseudo]
        pseudo_reach = list(accumulate((end for _, end in pseudo), max))
        predicted = {s for s, label in zip(sentence, labels_of) if label == "PREDICTION"}
        for cue, sent, label in zip(cues, sentence, labels_of):
            if label in MODIFIERS:
                continue
            t = bisect_right(terminators, cue.start) - 1
            last_terminator = terminators[t] if t >= 0 else -1
            # Where the nearest scope of each modifier still open at the cue ends: one in the
            # cue's sentence, ending before it, with no terminator from its end to the cue.
            scope = {
                modifier: _last_between(ends.get((sent, modifier), ()), last_terminator, cue.start)
                for modifier in ("HEDGE", "WEAK_HEDGE", "NEGATION", "REPORTED", "GENERIC")
            }
            negation = scope["NEGATION"]
            hedges_after = hedge_starts.get(sent, [])
            h = bisect_left(hedges_after, cue.end)
            # a hedge starting within the window after the cue, with no terminator before it
            reach = cue.end + self.post_hedge_window - 1
            t = bisect_left(terminators, cue.end)
            if t < len(terminators):
                reach = min(reach, terminators[t])
            p = bisect_right(pseudo_starts, cue.start) - 1
            states = {
                "hedged": scope["HEDGE"] is not None
                or (scope["WEAK_HEDGE"] is not None and label not in VERDICTS)
                or (h < len(hedges_after) and hedges_after[h] <= reach),
                "negated": negation is not None and cue.start - negation < self.negation_window,
                "reported": scope["REPORTED"] is not None and label not in {"FEELING_QUESTION", "PERSPECTIVE"},
                "quoted": bool(quoted) and all(i in quoted for i in range(cue.start, cue.end)),
                "generic": label in {"EMOTION", "FEEL"} and (scope["GENERIC"] is not None or sent in predicted),
                "pseudo": label in _PSEUDO_TARGETS and p >= 0 and pseudo_reach[p] > cue.start,
            }
            states["endorsed"] = (states["reported"] or states["quoted"]) and endorsed_until >= cue.end
            # Set for every cue, even with no state: cues of two categories over the same words
            # share their Span._ values (spaCy keys them by offsets), and the model was trained
            # with the last cue's states winning.
            cue._.cue_states = frozenset(name for name, value in states.items() if value)
        return doc

    @staticmethod
    def _quoted_tokens(doc: Doc) -> set[int]:
        """Token indices between paired quotation marks.

        A lone ``'`` glued to a word ending in "s" ("my parents' house") is a possessive,
        not a quote; contractions never reach here because the tokenizer keeps "'re" whole.
        """
        if _QUOTE_IDS.isdisjoint(doc.to_array(ORTH).tolist()):
            return set()
        marks = [
            t.i for t in doc
            if t.text in _QUOTES
            and not (t.text in {"'", "’"} and t.i > 0 and not doc[t.i - 1].whitespace_ and doc[t.i - 1].lower_.endswith("s")
                     and t.i + 1 < len(doc) and not doc[t.i + 1].is_punct and t.whitespace_)
        ]
        inside: set[int] = set()
        for open_i, close_i in zip(marks[::2], marks[1::2]):
            inside.update(range(open_i + 1, close_i))
        return inside


def _last_between(values: list[int] | tuple[()], low: int, high: int) -> int | None:
    """The largest of the sorted ``values`` that is above ``low`` and at most ``high``, if any."""
    i = bisect_right(values, high) - 1
    return values[i] if i >= 0 and values[i] > low else None


@Language.factory(
    "mentalize_scope",
    requires=["doc.spans"],
    assigns=["span._.cue_states"],
    default_config={"spans_key": SPANS_KEY, "negation_window": 4, "post_hedge_window": 3},
)
def make_scope(nlp: Language, name: str, spans_key: str, negation_window: int, post_hedge_window: int) -> ScopeResolver:
    """spaCy factory for :class:`ScopeResolver`."""
    return named(ScopeResolver(spans_key=spans_key, negation_window=negation_window, post_hedge_window=post_hedge_window), name)
