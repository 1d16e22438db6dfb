"""CHAT transcripts (``.cha``, TalkBank/CHILDES, as CLAN writes them), read with pylangacq.

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
"""

from __future__ import annotations

import re
from pathlib import Path

import pylangacq

from ..errors import TranscriptError
from .captions import Cue, clock, merge_cues
from .decode import MAX_BYTES, read_decoded
from .roles import RoleMap
from .roles import infer_role
from .session import Session
from .tabular import Columns

_MAIN_TIER = re.compile(r"^\*[^\s:]+:")
_BULLET = re.compile("\x15[^\x15]*\x15")
_OVERLAP = re.compile(r"\[[<>]\d*\]")
_GROUP = r"(?<![^\s<>\[\]])(?:<[^<>]*>|[^\s<>\[\]]+)"  # a whole word or <group>, never the tail of a word
_REPLACED = re.compile(rf"{_GROUP}\s*\[:(?!:)\s*([^\]]*)\]")
_RETRACED = re.compile(rf"{_GROUP}(?:\s*\[[^\]/][^\]]*\])*\s*\[(?:/{{1,3}}|/-|/\?)\]")
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
    tier = _REPLACED.sub(lambda m: f" {m.group(1)} ", tier)
    tier = _RETRACED.sub(" ", tier)
    tier = _PARALINGUISTIC.sub(lambda m: " &=" + "_".join(m.group(1).split()) + " ", tier)
    tier = _PAUSE.sub(" ", _CODE.sub(" ", tier))
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


def _roles(reader: pylangacq.CHAT) -> dict[str, str]:
    roles = {}
    for participant in reader.participants():
        role = infer_role(participant.role.replace("_", " ")) if participant.role else "other"
        if role in ("therapist", "client"):
            roles[participant.code] = role
    return roles


def read_cha(
    path: Path, *, columns: Columns = Columns(), max_bytes: int = MAX_BYTES, encoding: str | None = None, roles: RoleMap | None = None
) -> list[Session]:
    """Read a CHAT transcript into one session named after the file."""
    text, used = read_decoded(path, max_bytes, encoding, keep="\x15")
    lines = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.startswith("*"):
            continue
        if not _MAIN_TIER.match(line):
            raise TranscriptError(
                path,
                f"expected a main tier such as '*THE:\\tso how was the week ?', found {line.strip()[:60]!r}; "
                "put the speaker code between '*' and ':' and a tab before the words.",
                line=number,
            )
        lines.append(number)
    try:
        reader = pylangacq.CHAT.from_strs([text], parallel=False, strict=False, mor_tier=None, gra_tier=None)
    except ValueError as exc:
        raise TranscriptError(path, f"is not CHAT that can be read ({exc}); check it with CLAN's CHECK command.") from exc
    tiers = [u for u in reader.utterances() if u.participant is not None]
    numbers: list[int | None] = list(lines) if len(lines) == len(tiers) else [None] * len(tiers)
    cues = []
    for tier, number in zip(tiers, numbers):
        start, end = (clock(tier.time_marks[0]), clock(tier.time_marks[1])) if tier.time_marks else (None, None)
        cues.append(Cue(text=plain_text(tier.annotated or ""), speaker=tier.participant, start=start, end=end, line=number))
    utterances = merge_cues(cues)
    if not utterances:
        raise TranscriptError(
            path,
            "has no main tiers with words; CHAT turns are lines such as '*THE:\\tso how was the week ?' "
            "(speaker code, colon, tab, words).",
        )
    roles = _roles(reader)
    for utterance in utterances:
        utterance.role = roles.get(utterance.speaker)
    return [Session(name=path.stem, utterances=utterances, source=str(path), encoding=used)]
