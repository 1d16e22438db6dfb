"""Plain-text transcripts: ``SPEAKER: text`` lines, optionally time-stamped.

Accepted prefixes include ``T:``, ``Therapist:``, ``DR SMITH:``, ``Dr. Smith:``,
``Client 2:``, ``Therapist (Dr Lee):``, ``[00:01:02] C:``, ``00:01:02 C:`` and
``C [00:01:02]:``. A line without a prefix continues the previous turn.

Which prefixes are speakers is decided from the whole file first, so that "Quote: ..." or
"Recorded: ..." is not taken for a speaker. A prefix is a speaker when it

- names a role ("T", "Client", "Dr Lee"), or a speaker the caller named (``--therapist``...),
- opens two or more lines of the file, or
- carries a time stamp (``[00:01:02] Anna:``), or
- is named by a participant-list line such as "Client: Priya Shah" (a speaker's prefix
  followed by nothing but another prefix's name);

a prefix used once otherwise is a speaker only in a file whose turns are set apart by
blank lines, on a line after a blank line. Any other prefixed line is text: before the
first turn it is part of the session's header, after it a continuation of the turn it is
in. If these rules leave fewer than two speakers, every prefix is taken as one.

Lines before the first turn (titles such as "Session 4 - Priya - 12 March", dates,
participant lists such as "Therapist: Dr Anna Lee") are the session's ``header``, not turns.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from ..errors import TranscriptError
from .decode import MAX_BYTES, read_decoded
from .roles import RoleMap, infer_role
from .session import Session, Utterance
from .tabular import Columns

_TIME = r"\[?\(?(?P<{name}>\d{{1,2}}:\d{{2}}(?::\d{{2}})?(?:[.,]\d+)?)\)?\]?"
_WORD = r"[^\W_][\w.'’-]*"
_SPEAKER = rf"(?P<speaker>{_WORD}(?:[ ]{_WORD}){{0,3}}(?:[ ]?\([^():\n]{{1,30}}\))?)"
"""A speaker's name, with an optional note in brackets ("Therapist (Dr Lee)", "Sam (client)").
Which words make a name is decided by :func:`_name_like`, since Python's ``re`` cannot tell
an upper-case "É" or "Ł" from a lower-case one."""
_PARTICLES = frozenset({"al", "bin", "da", "das", "de", "del", "della", "der", "di", "do", "dos", "du", "el", "la", "le", "ten", "ter", "van", "von", "y"})
"""Lower-case words inside a capitalised name ("Maria de la Cruz", "Vincent van Dijk")."""
_NOT_FIRST = frozenset({"i", "he", "she", "they", "we", "you", "it", "my", "his", "her", "our", "their", "your", "the", "a",
                        "an", "and", "so", "but", "then", "well", "oh", "or", "if", "this", "that", "what", "when"})
"""Words that open a sentence, not a name of two or more words ("he said: …", "She told me: …", "My mum said: …")."""
_LINE = re.compile(
    rf"^\s*+(?:{_TIME.format(name='t1')}\s*+[-–]?\s*+)?{_SPEAKER}\s*+(?:{_TIME.format(name='t2')})?\s*+:\s?(?P<text>.*)$"
)
"""A turn's first line. Each run of spaces is taken whole (``\\s*+``): what follows it never
starts with a space, so nothing is lost, and a line with a long run of spaces and no colon
is given up at once instead of trying every way to share the run between two ``\\s*``."""
_LINE_NUMBER = re.compile(r"\d{1,5}\.?\s+(\D.*)")
"""A line number before a speaker's name, as research transcripts number their lines."""
_BRACKETED = re.compile(r"\s*\[([^\]\n:\d][^\]\n:]{0,39})\]\s*:(.*)", re.DOTALL)
"""A speaker's name in square brackets, "[SPEAKER_00]: text", as whisperX writes its captions."""
_MAX_NAMED = 50
"""More speakers than a session has; see ``named`` in :func:`split_turns`."""
_NOT_SPEAKERS = frozenset({"http", "https", "note", "notes", "ps", "re", "subject", "date", "time", "session", "so", "and", "but", "like", "then"})


def parse_line(line: str) -> tuple[str, str, str | None] | None:
    """``(speaker, text, start)`` if the line opens a turn, else ``None``."""
    bracketed = _BRACKETED.match(line)
    if bracketed:
        line = f"{bracketed[1]}:{bracketed[2]}"
    match = _LINE.match(line)
    if not match:
        return None
    speaker = match.group("speaker").strip()
    numbered_line = _LINE_NUMBER.match(speaker)  # "12 T:" in a transcript with numbered lines
    if numbered_line and _name_like(numbered_line[1]):
        speaker = numbered_line[1]
    if speaker.lower().rstrip(".") in _NOT_SPEAKERS or len(speaker) > 40 or not _name_like(speaker):
        return None
    return speaker, match.group("text").strip(), match.group("t1") or match.group("t2")


def _name_like(prefix: str) -> bool:
    """Whether a prefix (its note in brackets aside) can be a speaker's name: one to three words starting with a
    capital, a digit or a letter without case ("Élodie", "Client 2", "Dr. O'Neil-Smith"), the
    first not a word that opens a sentence ("She told me", "My mum said");
    four such words, or with name particles ("Maria de la Cruz"); one lower-case word
    ("t", "anna"); or two lower-case words that do not open a sentence (a video call's
    display name, "priya shah")."""
    words = prefix.split("(")[0].split()
    if not words:
        return False
    if len(words) > 1 and words[0].lower() in _NOT_FIRST:  # "She told me", "My mum said", "Then I said"
        return False
    if not words[0][0].islower():
        return len(words) <= 3 or all(not w[0].islower() or w in _PARTICLES for w in words[1:])
    return len(words) <= 2 and all(w[0].islower() and len(w) <= 15 for w in words)


class Turns(NamedTuple):
    """What a speaker-prefixed text holds: the header lines before the first turn, and the turns."""

    header: list[str]
    utterances: list[Utterance]


def _key(name: str) -> str:
    return " ".join(name.lower().replace(".", " ").split())


def split_turns(lines: Iterable[tuple[int, str]], known: Callable[[str], bool] | None = None) -> Turns:
    """Header and turns from numbered lines (see the module notes for which prefixes are speakers).

    Args:
        lines: ``(line number, text)`` pairs, in order.
        known: Whether a name is one the caller gave a role (``RoleMap.known``); by default,
            whether the name implies a role.

    Used for ``.txt`` files and for the paragraphs of ``.docx`` files.
    """
    known = known or (lambda name: infer_role(name) != "other")
    rows: list[tuple[int, str, tuple[str, str, str | None] | None, bool, str]] = []
    blank = True
    for number, raw in lines:
        line = raw.strip()
        if not line:
            blank = True
            continue
        parsed = parse_line(line)
        rows.append((number, line, parsed, blank, _key(parsed[0]) if parsed else ""))
        blank = False
    counts = Counter(key for *_, key in rows if key)
    by_word: dict[str, list[tuple[str, set[str]]]] = {}
    for name in counts:
        parts = set(name.split())
        for word in parts:
            by_word.setdefault(word, []).append((name, parts))

    def named(speaker: str, text: str) -> list[str]:
        """The other prefixes a participant-list line such as "Therapist: Dr Anna Lee" names.

        A line whose every word is in more than :data:`_MAX_NAMED` prefixes is too general to
        name a participant (and comparing it with them all, line after line, would take time
        growing with the square of the file)."""
        if len(text) > 80 or text.rstrip().endswith(("?", "!")):
            return []
        words = set(_key(re.sub(r"[^\w\s'-]", " ", text)).split())
        if not 0 < len(words) <= 5:
            return []
        own = _key(speaker)
        candidates = min((by_word.get(w, []) for w in words), key=len)
        if len(candidates) > _MAX_NAMED:
            return []
        return [name for name, parts in candidates if words <= parts and name != own]

    first_use = {key: p for _, _, p, _, key in reversed(rows) if p}
    strong = {key for key, p in first_use.items() if counts[key] > 1 or known(p[0])}
    strong |= {key for _, _, p, _, key in rows if p and p[2]}
    strong |= {name for _, _, p, _, key in rows if p and key in strong and len(p[1]) <= 80 for name in named(*p[:2])}
    after_first = [before for _, _, p, before, key in rows if p and key in strong][1:]
    spaced = bool(after_first) and sum(after_first) * 2 >= len(after_first)

    def listing(speaker: str, text: str) -> bool:
        return bool(named(speaker, text))

    def turns(everything: bool) -> Turns:
        header: list[str] = []
        utterances: list[Utterance] = []
        texts: list[list[str]] = []
        for number, line, parsed, before, key in rows:
            opens = False
            if parsed is not None:
                if everything:
                    opens = True
                elif key in strong:
                    opens = bool(utterances) or not listing(parsed[0], parsed[1])
                else:
                    opens = bool(utterances) and before and spaced
            if opens and parsed is not None:
                speaker, words, start = parsed
                utterances.append(Utterance(turn=len(utterances), speaker=speaker, text=words, start=start, line=number))
                texts.append([words])
            elif utterances:
                texts[-1].append(line)
            else:
                header.append(line)
        for utterance, parts in zip(utterances, texts):
            utterance.text = joined(parts)
        return Turns(header, utterances)

    result = turns(everything=False)
    if len({_key(u.speaker) for u in result.utterances}) < 2 and len(counts) >= 2:
        result = turns(everything=True)
    return result


def parse_lines(lines: Iterable[tuple[int, str]]) -> list[Utterance]:
    """The turns of :func:`split_turns`, without the header."""
    return split_turns(lines).utterances


def joined(parts: Iterable[str]) -> str:
    """Stripped pieces of text joined by single spaces, empty ones left out: a turn's text
    from its lines, gathered first and joined once (joining as each line arrives would copy
    the turn again for every line)."""
    return " ".join(part for part in parts if part)


def numbered(utterances: list[Utterance]) -> list[Utterance]:
    """The turns that hold text, numbered 0.. again so ``turn`` stays the position in the session."""
    kept = [u for u in utterances if u.text.strip()]
    for index, utterance in enumerate(kept):
        utterance.turn = index
    return kept


def read_txt(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a speaker-prefixed text transcript into one session named after the file."""
    text, used = read_decoded(path, max_bytes, encoding)
    header, utterances = split_turns(enumerate(text.split("\n"), start=1), roles.known if roles else None)
    if not utterances:
        raise TranscriptError(
            path,
            "no line starts with a speaker prefix such as 'T:' or 'Client:'; "
            "put each turn on its own line as 'SPEAKER: text'.",
            line=1,
        )
    return [Session(name=path.stem, utterances=numbered(utterances), source=str(path), encoding=used, header=header)]
