"""Who is the therapist: role inference from speaker names, with overrides."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import TranscriptError

ROLES: tuple[str, ...] = ("therapist", "client", "other")

_THERAPIST = re.compile(
    r"^(t|th|ther|therapist|counsell?or|clinician|interviewer|psychologist|psychotherapist|analyst|facilitator|"
    r"practitioner|doctor|dr\b.*|dr\.?\s.*|mi|mbt|supervisor|trainee|coach|worker|nurse)\s*\d*$"
)
_CLIENT = re.compile(r"^(c|cl|client|patient|pt|p|participant|service user|su|interviewee|young person|yp|member)\s*\d*$")


def infer_role(speaker: str) -> str:
    """``therapist``, ``client`` or ``other`` from a speaker name such as "T", "Dr Smith" or "Client 2"."""
    name = " ".join(speaker.strip().strip(":").lower().split())
    if _THERAPIST.match(name):
        return "therapist"
    if _CLIENT.match(name):
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
        return " ".join(name.strip().lower().split())

    def role(self, speaker: str, given: str | None = None) -> str:
        """The override for ``speaker`` if any, else a valid ``given`` role, else inference."""
        override = self.overrides.get(self._key(speaker))
        if override:
            return override
        if given and given.strip().lower() in ROLES:
            return given.strip().lower()
        return infer_role(speaker)

    @classmethod
    def from_file(cls, path: str | Path, therapists: Iterable[str] = (), clients: Iterable[str] = ()) -> RoleMap:
        """Read a CSV mapping file with columns ``speaker,role``."""
        import pandas as pd

        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if not {"speaker", "role"} <= set(frame.columns):
            raise TranscriptError(path, f"a role mapping file needs columns speaker,role; found: {', '.join(frame.columns)}.")
        bad = frame[~frame["role"].str.lower().isin(ROLES)]
        if len(bad):
            row = int(bad.index[0]) + 2
            raise TranscriptError(path, f"role {bad.iloc[0]['role']!r} is not one of {', '.join(ROLES)}.", line=row)
        return cls(therapists, clients, dict(zip(frame["speaker"], frame["role"].str.lower())))
