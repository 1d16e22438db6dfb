"""The cue detector: finds emotion words, mental-state verbs, hedges, certainty markers,
trait labels, reported speech and the rest, as spans in ``doc.spans["mentalize_cues"]``.

The span label is the cue category. What a cue *means* in context is decided by the
scope step (:mod:`mentalize_nlp.pipeline.scope`), not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import srsly
from spacy.attrs import NORM
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.strings import get_string_id
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, ensure_path

from .batching import BatchComponent, named
from .rules import CueRule, default_rules, read_rules, write_rules

SPANS_KEY = "mentalize_cues"
_DETERMINERS = frozenset({"a", "an", "such", "total", "right", "real", "proper", "complete", "absolute", "the", "that"})


class CueDetector(BatchComponent):
    """Match cue rules and store the hits as labelled spans.

    Args:
        nlp: The pipeline, used to tokenize phrases.
        rules: The cue rules.
        rules_path: A JSONL file or folder to read rules from, when ``rules`` is not given;
            the package's own lists when neither is. Reading is deferred to first use, so a
            pipeline saved with :meth:`to_disk` loads its own copy of the rules even if this
            path has since gone.
        spans_key: Where in ``doc.spans`` the cues are stored.
    """

    name = "mentalize_cues"

    def __init__(
        self,
        nlp: Language,
        *,
        rules: Iterable[CueRule] | None = None,
        rules_path: str | Path | None = None,
        spans_key: str = SPANS_KEY,
    ) -> None:
        self.nlp = nlp
        self.spans_key = spans_key
        self.rules_path = rules_path
        self.rules: list[CueRule] = []
        self._ready = False
        if rules is not None:
            self._build(rules)

    def _ensure_ready(self) -> None:
        if not self._ready:
            self._build(read_rules(self.rules_path) if self.rules_path else default_rules())

    def _build(self, rules: Iterable[CueRule]) -> None:
        self.rules = list(rules)
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        self.matcher = Matcher(self.nlp.vocab)
        phrases: dict[str, list[str]] = {}
        for rule in self.rules:
            if rule.phrases:
                phrases.setdefault(rule.category, []).extend(rule.phrases)
            else:
                self.matcher.add(rule.category, [list(rule.pattern)])
        for category, texts in phrases.items():
            self.phrase_matcher.add(category, list(self.nlp.tokenizer.pipe(sorted(set(texts)))))
        self._anchors = _anchors(rule.pattern for rule in self.rules if not rule.phrases)
        self._trait_id = self.nlp.vocab.strings.add("TRAIT")
        self._ready = True

    def __call__(self, doc: Doc) -> Doc:
        self._ensure_ready()
        found: dict[tuple[int, int, int], None] = {}
        for match_id, start, end in self.phrase_matcher(doc):
            found[(match_id, start, end)] = None
        if len(self.matcher) and (self._anchors is None or not self._anchors.isdisjoint(doc.to_array(NORM).tolist())):
            for match_id, start, end in self.matcher(doc):
                found[(match_id, start, end)] = None
        spans = [
            Span(doc, start, end, label=match_id)
            for match_id, start, end in sorted(found, key=lambda m: (m[1], m[2]))
            if not (match_id == self._trait_id and self._is_name(doc, start, end))
        ]
        doc.spans[self.spans_key] = self._longest_per_category(spans)
        return doc

    @staticmethod
    def _is_name(doc: Doc, start: int, end: int) -> bool:
        """A capitalised word inside a sentence, not after "a"/"such a", is a name
        ("my manager, Karen, she hates me"), never a trait label ("she's a Karen")."""
        token = doc[start]
        if end - start != 1 or not token.is_title or token.is_sent_start or start == 0:
            return False
        before = doc[start - 1]
        return not (before.is_punct and before.text in {".", "!", "?", '"', "“"}) and before.lower_ not in _DETERMINERS

    @staticmethod
    def _longest_per_category(spans: list[Span]) -> list[Span]:
        """Within one category keep the longest of overlapping matches ("wound up" over "up")."""
        by_category: dict[str, list[Span]] = {}
        for span in spans:
            by_category.setdefault(span.label_, []).append(span)
        kept = [span for group in by_category.values() for span in filter_spans(group)]
        return sorted(kept, key=lambda s: (s.start, s.end, s.label_))

    def to_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> None:
        """Write the rules, so a saved pipeline carries its own word lists."""
        self._ensure_ready()
        path = ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        write_rules(self.rules, path / "rules.jsonl")
        srsly.write_json(path / "cfg.json", {"spans_key": self.spans_key})

    def from_disk(self, path: str | Path, *, exclude: Iterable[str] = ()) -> CueDetector:
        """Load rules written by :meth:`to_disk`."""
        path = ensure_path(path)
        self.spans_key = srsly.read_json(path / "cfg.json")["spans_key"]
        self._build(read_rules(path / "rules.jsonl"))
        return self


def _anchors(patterns: Iterable[tuple[dict, ...]]) -> frozenset[int] | None:
    """Norms (as hashes) of which every pattern needs at least one, so a doc holding none of
    them can skip the ``Matcher``; ``None`` when some pattern has no such word.

    The ``Matcher`` tests its ``IN`` sets in Python on every token, which made it most of the
    detector's time for two patterns that both need the word "stress"."""
    found: set[int] = set()
    for pattern in patterns:
        words = min(  # the rarest word a match cannot do without
            (
                [spec["NORM"]] if isinstance(spec["NORM"], str) else list(spec["NORM"]["IN"])
                for spec in pattern
                if set(spec) == {"NORM"} and (isinstance(spec["NORM"], str) or set(spec["NORM"]) == {"IN"})
            ),
            key=len,
            default=None,
        )
        if not words:
            return None
        found.update(get_string_id(w) for w in words)
    return frozenset(found)


@Language.factory(
    "mentalize_cues",
    assigns=["doc.spans"],
    default_config={"rules_path": None, "spans_key": SPANS_KEY},
)
def make_cues(nlp: Language, name: str, rules_path: str | None, spans_key: str) -> CueDetector:
    """spaCy factory for :class:`CueDetector`; ``rules_path`` replaces the shipped lists."""
    return named(CueDetector(nlp, rules_path=rules_path, spans_key=spans_key), name)
