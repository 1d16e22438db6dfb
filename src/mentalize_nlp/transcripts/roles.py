"""Who is the therapist: role inference from speaker names, with overrides.

The rules, in order (see docs/transcripts.md):

1. a name given by the caller (``--therapist``, ``--client``, ``--roles`` file) wins;
2. else a role the transcript states itself (a ``role`` column, CHAT's ``@Participants``);
3. else the role a name implies: "T", "Therapist", "Dr Smith", "Counsellor 2" are the
   therapist; "C", "Client", "Patient", "P" the client; any other name is ``other``;
4. then, per session: when the session has exactly two speakers and one of them is the
   therapist (or the client) by rules 1-3 while the other got ``other`` by rule 3, the other
   is the client (or the therapist). "Dr Anna Lee" and "Priya Shah": Priya is the client.

Nothing else is guessed: two unnamed diarised speakers (whisper's ``SPEAKER_00`` and
``SPEAKER_01``) stay ``other``, since nothing in a name says which one is the therapist.
Every speaker left ``other`` by its name (not by an override or the transcript) is named in
the session's ``warnings`` with the options that fix it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import TranscriptError
from .session import Session

UNKNOWN = "UNKNOWN"
"""Speaker of text heard before anyone is named (captions, speech recognition)."""

ROLES: tuple[str, ...] = ("therapist", "client", "other")

_THERAPIST = re.compile(
    r"^(t|th|ther|therapist|counsell?or|clinician|interviewer|psychologist|psychotherapist|analyst|facilitator|"
    r"practitioner|doctor|dr\b.*|dr\.?\s.*|mi|mbt|supervisor|trainee|coach|worker|nurse)\s*\d*$"
)
_CLIENT = re.compile(r"^(c|cl|client|patient|pt|p|participant|service user|su|interviewee|young person|yp|member)\s*\d*$")
_NOTE = re.compile(r"^(?P<name>[^()]+?)\s*\((?P<note>[^()]+)\)$")


def infer_role(speaker: str) -> str:
    """``therapist``, ``client`` or ``other`` from a speaker name such as "T", "Dr Smith" or "Client 2"."""
    name = " ".join(speaker.strip().strip(":").lower().split())
    noted = _NOTE.match(name)  # "therapist (dr lee)": the name, then the note
    for part in (noted["name"], noted["note"]) if noted else (name,):
        if _THERAPIST.match(part):
            return "therapist"
        if _CLIENT.match(part):
            return "client"
    return "other"


class RoleMap:
    """Role inference with explicit overrides: named therapists and clients win over inference.

    Args:
        therapists: Speaker names to treat as the therapist.
        clients: Speaker names to treat as the client.
        mapping: Further ``speaker -> role`` pairs (from a mapping file).
    """

    def __init__(self, therapists: Iterable[str] = (), clients: Iterable[str] = (), mapping: Mapping[str, str] | None = None) -> None:
        self.overrides: dict[str, str] = {}
        for speaker, role in (mapping or {}).items():
            self.overrides[self._key(speaker)] = role
        for name in therapists:
            self.overrides[self._key(name)] = "therapist"
        for name in clients:
            self.overrides[self._key(name)] = "client"

    @staticmethod
    def _key(name: str) -> str:
        return " ".join(unicodedata.normalize("NFC", name).strip().lower().split())

    def role(self, speaker: str, given: str | None = None) -> str:
        """The override for ``speaker`` if any, else a valid ``given`` role, else inference."""
        return self.decide(speaker, given)[0]

    def decide(self, speaker: str, given: str | None = None) -> tuple[str, bool]:
        """``(role, stated)``: the role as :meth:`role` gives it, and whether it was stated (by
        an override or the transcript) rather than inferred from the name."""
        override = self.overrides.get(self._key(speaker))
        if override:
            return override, True
        value = (given or "").strip().lower()
        if value in ROLES:
            return value, True
        if value and infer_role(value) != "other":  # a role column saying "T", "counsellor" or "patient"
            return infer_role(value), True
        return infer_role(speaker), False

    def known(self, speaker: str) -> bool:
        """Whether ``speaker`` is named by an override or implies a role by its name."""
        return self._key(speaker) in self.overrides or infer_role(speaker) != "other"

    def assign(self, session: Session) -> None:
        """Give every turn of ``session`` its role (rules 1-4 above), and warn of speakers left ``other``."""
        stated: dict[str, bool] = {}
        unread: dict[str, None] = {}  # role column values that name no role
        for utterance in session.utterances:
            given = (utterance.role or "").strip()
            utterance.role, was_stated = self.decide(utterance.speaker, utterance.role)
            if given and given.lower() not in ROLES and infer_role(given) == "other":
                unread.setdefault(given)
            stated[utterance.speaker] = stated.get(utterance.speaker, False) or was_stated
        by_speaker: dict[str, set[str]] = {}
        for utterance in session.utterances:
            if utterance.speaker != UNKNOWN:
                by_speaker.setdefault(utterance.speaker, set()).add(utterance.role or "other")
        if len(by_speaker) == 2 and all(len(r) == 1 for r in by_speaker.values()):
            (first, (one,)), (second, (two,)) = by_speaker.items()
            pair = {one, two}
            if pair in ({"therapist", "other"}, {"client", "other"}):
                guessed = first if one == "other" else second
                if not stated[guessed]:
                    role = "client" if "therapist" in pair else "therapist"
                    for utterance in session.utterances:
                        if utterance.speaker == guessed:
                            utterance.role = role
        if unread:
            session.warnings.append(
                f"role column value{'s' if len(unread) > 1 else ''} {some([repr(v) for v in unread])} name{'' if len(unread) > 1 else 's'} "
                "no role (therapist, client, other, or a name such as T, C, counsellor, patient); those turns took "
                "their role from the speaker's name. Correct the column, or pass --roles mapping.csv."
            )
        warning = role_warning(session, stated)
        if warning and warning not in session.warnings:
            session.warnings.append(warning)

    @classmethod
    def from_file(cls, path: str | Path, therapists: Iterable[str] = (), clients: Iterable[str] = ()) -> RoleMap:
        """Read a CSV mapping file with columns ``speaker,role`` (in any encoding a transcript may be in).

        Raises:
            TranscriptError: the file cannot be read, is not CSV, or lacks the columns or roles.
        """
        import io

        import pandas as pd

        from .decode import read_text

        text = read_text(Path(path))
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
            raise TranscriptError(path, f"is not a readable CSV file ({exc}); a role mapping file has the columns speaker,role.") from exc
        if not {"speaker", "role"} <= set(frame.columns):
            raise TranscriptError(path, f"a role mapping file needs columns speaker,role; found: {', '.join(frame.columns)}.")
        bad = frame[~frame["role"].str.lower().isin(ROLES)]
        if len(bad):
            row = int(bad.index[0]) + 2
            raise TranscriptError(path, f"role {bad.iloc[0]['role']!r} is not one of {', '.join(ROLES)}.", line=row)
        return cls(therapists, clients, dict(zip(frame["speaker"], frame["role"].str.lower())))


def some(items: list[str], shown: int = 10) -> str:
    """The first ``shown`` items, comma-separated, and how many more there are."""
    return ", ".join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")


def role_warning(session: Session, stated: Mapping[str, bool] | None = None) -> str | None:
    """What to say when some speakers of ``session`` have no role: their names and the fix.

    Speakers whose ``other`` was stated (by an override or the transcript) are not warned of.
    """
    roles: dict[str, str] = {}
    for utterance in session.utterances:
        if utterance.speaker != UNKNOWN:
            roles.setdefault(utterance.speaker, utterance.role or "other")
    left = [name for name, role in roles.items() if role == "other" and not (stated or {}).get(name)]
    if not left:
        return None
    names = [n if " " not in n else f'"{n}"' for n in left]
    found = set(roles.values())
    if "therapist" in found:  # the example names the role still missing, not one already given
        example = f"--client {names[0]}"
    elif "client" in found or len(names) == 1:
        example = f"--therapist {names[0]}"
    else:
        example = f"--therapist {names[0]} --client {names[1]}"
    return (
        f"no therapist or client role for {some([repr(n) for n in left])}; counted as 'other'. "
        f"Speakers found: {some([f'{n!r} ({r})' for n, r in roles.items()])}. "
        f"Say who is who with --therapist NAME and --client NAME (e.g. {example}), "
        "or a --roles file with columns speaker,role."
    )
