"""CHAT transcripts (``.cha``, TalkBank/CHILDES, as CLAN writes them).

Main tiers (``*THE:\\tso how was the week ?``) are the turns; a line starting with a tab
continues the tier above it; ``%`` dependent tiers and ``@`` headers are not speech. The
speaker is the tier's code (``THE``); where ``@Participants`` gives the code a role that
names a therapist or client (``THE Anna Therapist``, ``CLI Client``, ``PAT Patient``) that
role is kept, otherwise the role is inferred from the code like any speaker name.
Consecutive tiers of one speaker are one turn, timed by their media bullets where present.

CHAT's annotation is taken out as CLAN's tools read it: retraced words go with their codes
(``<I want> [/] I want`` reads "I want"), a replacement stands for what it replaces
(``goed [: went]`` reads "went"), and error codes ``[*]``, overlap marks, pauses ``(.)``, omitted words
``0is``, special-form markers ``word@s``, prolongation ``lo:nely`` and another speaker's
interjection ``&*CLI:mhm`` go; fillers ``&-um`` and fragments ``&+fr`` stay as words
(``um``, ``fr-``); events ``&=laughs`` and ``[=! laughs]`` stay as the bracketed notes
``[laughs]``; unintelligible ``xxx``/``yyy`` become ``[unintelligible]``. ``Utterance.line``
is the line of the turn's first main tier.

Tiers are read line by line here, as pylangacq reads them (a tier's time is its first media
bullet ``\\x151000_2500\\x15``; the last ``@Participants`` header names the roles), because
pylangacq's own parser takes time growing with the square of a tier's length when a ``<``
or ``(`` is left open, and a damaged file must not stall a batch.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from ..errors import TranscriptError
from .captions import Cue, clock, merge_cues
from .decode import MAX_BYTES, read_decoded
from .roles import RoleMap
from .roles import infer_role
from .session import Session, sub_closed
from .tabular import Columns

_MAIN_TIER = re.compile(r"^\*[^\s:]+:")
_TIME_MARKS = re.compile("\x15([0-9]+)_([0-9]+)\x15")
_BULLET = re.compile("\x15[^\x15]*\x15")
_OVERLAP = re.compile(r"\[[<>]\d*\]")
_GROUP = r"(?<![^\s<>\[\]])(?:<[^<>]*>|[^\s<>\[\]]+)"  # a whole word or <group>, never the tail of a word
_REPLACED = re.compile(rf"{_GROUP}\s*\[:(?!:)\s*([^\]]*)\]")
_RETRACED = re.compile(rf"{_GROUP}(?:\s*\[[^\]/\[][^\[\]]*\])*\s*\[(?:/{{1,3}}|/-|/\?)\]")
_PARALINGUISTIC = re.compile(r"\[=!\s*([^\]]*)\]")
_CODE = re.compile(r"\[[^\]]*\]")
_PAUSE = re.compile(r"\((?:\.{1,3}|\d+(?::\d+)?\.\d*)\)")
_MARKS = re.compile("[<>‹›⌈⌉⌊⌋↑↓⇗↗→↘⇘∞≋≈°▁▔☺♋⁇∬Ϋ∮↻∆∇^ˈˌ≠()]")
_PROLONGED = re.compile(r"(?<=[^\W\d_]):")
_PUNCTUATION = re.compile(r"^(?:[.,?!]+|\.\.\.\??)$")
_TERMINATORS = {"+...": "...", "+..?": "...?", "+/.": "...", "+//.": "...", "+/?": "?", "+//?": "?", "+/??": "?",
                "+!?": "?!", "+\"/.": ".", "+\".": ".", "+.": ".", "+\u2248.": ".", "+\u224b.": "."}
_UNHEARD = {"xxx": "[unintelligible]", "yyy": "[unintelligible]", "xx": "[unintelligible]", "yy": "[unintelligible]",
            "www": "[untranscribed]"}


def _word(token: str) -> str:
    """One main-tier token as it reads in plain text ("" when it is not a spoken word)."""
    if token.startswith("&="):
        return f"[{' '.join(re.split(r'[:_]', token[2:])).strip()}]"
    if token.startswith("&*") or token.startswith("0") and token[1:2].isalpha() or token == "0":
        return ""
    if token.startswith("&+"):
        return f"{token[2:]}-" if token[2:] else ""
    if token.startswith("&"):
        token = token.lstrip("&-~")
    if token.startswith("+"):
        return _TERMINATORS.get(token, "")
    if token.lower() in _UNHEARD:
        return _UNHEARD[token.lower()]
    if "@" in token[1:]:
        token = token[: token.index("@", 1)]
    token = _PROLONGED.sub("", _MARKS.sub("", token))
    return {"„": ",", "‡": ","}.get(token, token)


def plain_text(tier: str) -> str:
    """A main tier's words without CHAT coding (see the module notes for what is kept)."""
    tier = _OVERLAP.sub(" ", _BULLET.sub(" ", tier))
    # Every code ends in "]": none is looked for past the last one (see sub_closed).
    tier = sub_closed(_REPLACED, lambda m: f" {m.group(1)} ", tier, "]")
    tier = sub_closed(_RETRACED, " ", tier, "]")
    tier = sub_closed(_PARALINGUISTIC, lambda m: " &=" + "_".join(m.group(1).split()) + " ", tier, "]")
    tier = _PAUSE.sub(" ", sub_closed(_CODE, " ", tier, "]"))
    words: list[str] = []
    for token in tier.split():
        word = _word(token)
        if not word:
            continue
        if _PUNCTUATION.match(word) and words:
            words[-1] += word
        elif not _PUNCTUATION.match(word):
            words.append(word)
    return " ".join(words)


class _Tier(NamedTuple):
    """A header or tier with its continuation lines joined: ``@Participants``, ``*THE``, ``%mor``."""

    line: int
    head: str
    text: str


def _tiers(text: str, path: Path) -> list[_Tier]:
    """Every ``@`` header and ``*``/``%`` tier, in order; a line starting with anything else
    (a tab, as CLAN writes them) continues the one above it. Main tiers must read
    ``*CODE:``."""
    tiers: list[tuple[int, str, list[str]]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        if line[0] in "*%@":
            if line[0] == "*" and not _MAIN_TIER.match(line):
                raise TranscriptError(
                    path,
                    f"expected a main tier such as '*THE:\\tso how was the week ?', found {line.strip()[:60]!r}; "
                    "put the speaker code between '*' and ':' and a tab before the words.",
                    line=number,
                )
            head, _, rest = line.partition(":") if ":" in line else (line.rstrip(), "", "")
            tiers.append((number, head, [rest.strip()]))
        elif tiers:
            tiers[-1][2].append(line.strip())
    return [_Tier(number, head, " ".join(parts)) for number, head, parts in tiers]


def _time_marks(tier: str) -> tuple[str, str] | tuple[None, None]:
    """Start and end of the tier's first media bullet, as ``HH:MM:SS.mmm``; ``None`` without one."""
    found = _TIME_MARKS.search(tier)
    if found is None or max(len(found[1]), len(found[2])) > 18:
        return None, None
    return clock(int(found[1])), clock(int(found[2]))


def _roles(tiers: list[_Tier]) -> dict[str, str]:
    """Therapist and client codes from the last ``@Participants`` header before the first main
    tier (``THE Anna_Smith Therapist, CLI Client``: code, name, role; the role is the last words)."""
    first = next((i for i, t in enumerate(tiers) if t.head.startswith("*")), len(tiers))
    listed = [t.text for t in tiers[:first] if t.head == "@Participants"]
    roles = {}
    for entry in listed[-1].split(",") if listed else ():
        words = entry.split()
        if len(words) < 2:
            continue
        role = infer_role(" ".join(words[2:] or words[1:]).replace("_", " "))
        if role in ("therapist", "client"):
            roles[words[0]] = role
    return roles


def read_cha(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a CHAT transcript into one session named after the file."""
    text, used = read_decoded(path, max_bytes, encoding, keep="\x15")
    tiers = _tiers(text, path)
    cues = []
    for tier in tiers:
        if tier.head.startswith("*"):
            start, end = _time_marks(tier.text)
            cues.append(Cue(text=plain_text(tier.text), speaker=tier.head[1:], start=start, end=end, line=tier.line))
    utterances = merge_cues(cues)
    if not utterances:
        raise TranscriptError(
            path,
            "has no main tiers with words; CHAT turns are lines such as '*THE:\\tso how was the week ?' "
            "(speaker code, colon, tab, words).",
        )
    roles = _roles(tiers)
    for utterance in utterances:
        utterance.role = roles.get(utterance.speaker)
    return [Session(name=path.stem, utterances=utterances, source=str(path), encoding=used)]
