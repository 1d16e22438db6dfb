"""A short plain-language reading of one session's figures, written for a trainee.

The sentences describe what the tagger counted, in everyday words, and suggest where to
listen; they never grade the client or the therapist.
"""

from __future__ import annotations

from .charts import signed
from .data import SessionFigures, kind_counts, real_talk_agreement


def _balance_words(value: float) -> str:
    if value != value:
        return "nothing was tagged, so there is no balance to read"
    if value >= 0.5:
        return "mostly mentalizing"
    if value >= 0.15:
        return "more mentalizing than certainty"
    if value > -0.15:
        return "about even between mentalizing and certainty"
    if value > -0.5:
        return "more certainty than mentalizing"
    return "mostly certainty"


def reading(figures: SessionFigures, model: str | None = None) -> list[str]:
    """Paragraphs (plain text) reading the session's figures for a trainee; ``model`` is the
    model folder that tagged them, the shipped model when None."""
    out: list[str] = []
    client, therapist = figures.client, figures.therapist
    if client is None or therapist is None:
        missing = " or the ".join(r for r, f in (("client", client), ("therapist", therapist)) if f is None)
        out.append(
            f"No speaker in this session was recognised as the {missing}, so the figures below are per speaker only. "
            "Re-score with --therapist NAME / --client NAME (or a --roles file) to get the role-based reading."
        )
    if client is not None:
        cl = client.counts["certainty_labelling"]
        label = "certainty_labelling"
        corrected = ""
        if label in client.adjusted_per_100 and client.adjusted_per_100[label] == client.adjusted_per_100[label]:
            corrected = (f"; corrected for the tagger's known errors, about {client.adjusted_per_100[label]:.0f} per 100, "
                         f"90% interval {client.per_100_low[label]:.0f}–{client.per_100_high[label]:.0f}")
        text = (
            f"The client spoke {client.utterances} time{'s' if client.utterances != 1 else ''}. {cl} of those turns "
            f"({client.per_100[label]:.0f} per 100{corrected}) {'were' if cl != 1 else 'was'} tagged certainty labelling: "
            "a fixed verdict about a person, or a claim to know a mind for sure. "
            f"They named a feeling in {client.counts['feeling_naming']} and wondered about a mind (perspective taking) in "
            f"{client.counts['perspective_taking']}. "
        )
        if client.balance == client.balance:
            text += f"Overall their turns were {_balance_words(client.balance)} (balance {signed(client.balance)}, on a scale from −1 to +1)."
        else:
            text += "Nothing they said was tagged, so there is no balance to read."
        out.append(text)
    if therapist is not None:
        fn, pt = therapist.counts["feeling_naming"], therapist.counts["perspective_taking"]
        out.append(
            f"The therapist spoke {therapist.utterances} time{'s' if therapist.utterances != 1 else ''}, naming or asking "
            f"about a feeling in {fn} turn{'s' if fn != 1 else ''} and inviting perspective taking in {pt}."
        )
    if figures.answered:
        kinds = figures.responses["kind"].tolist()
        found = [f"{rule.name} {n}" for rule, n in kind_counts(kinds) if n]
        out.append(
            f"The therapist replied to {figures.answered} client certainty statement{'s' if figures.answered != 1 else ''}: "
            + ", ".join(found) + ". "
            "Each reply is listed below as a moment to listen to, the ones that kept mentalizing going and the ones that may have missed a chance alike."
        )
    elif client is not None and therapist is not None:
        out.append("The client made no certainty statement that the therapist answered, so there are no replies to describe in this session.")
    if not figures.moments.empty:
        own = int((figures.moments["kind"] == "certainty").sum())
        repairs = int((figures.moments["kind"] == "repair").sum())
        out.append(
            f"The therapist stated something with certainty of their own {own} time{'s' if own != 1 else ''} "
            f"(an interpretation or advice put as fact) and repaired {repairs} time{'s' if repairs != 1 else ''}."
        )
    if figures.spikes:
        where = ", ".join(
            f"turns {figures.utterances['turn'].iat[s.start]}–{figures.utterances['turn'].iat[s.end]}" for s in figures.spikes
        )
        out.append(
            f"Certainty labelling clustered in {len(figures.spikes)} stretch{'es' if len(figures.spikes) != 1 else ''} ({where}); "
            "these moments, and what the therapist did next, are good places to start listening."
        )
    review = int(figures.utterances["needs_review"].sum()) if "needs_review" in figures.utterances else 0
    agreement = real_talk_agreement(model)
    flagged = f"{review} of the {len(figures.utterances)} utterances in this session need review (marked ⚑ check)"
    if agreement is not None and agreement["kind"] == "real_test" and "macro_f1_low" in agreement:
        checked = ("Checked against human coders on real talk, the tagger's" if agreement["shipped"] else
                   "This session was tagged by a retrained model. Checked against human coders on its held-out sessions, its")
        out.append(
            f"{checked} agreement with them is {agreement['macro_f1']:.2f} on a scale where 1 is full agreement (macro F1, "
            f"95% interval {agreement['macro_f1_low']:.2f}–{agreement['macro_f1_high']:.2f}"
            + (f"; for certainty labelling alone, {agreement['f1_certainty_labelling']:.2f}" if "f1_certainty_labelling" in agreement else "")
            + f"), and {flagged}."
        )
    elif agreement is not None:
        out.append(
            "This session was tagged by a model retrained on a researcher's own codes. Cross-validated on those codes, its "
            f"agreement with the coders is {agreement['macro_f1']:.2f} on a scale where 1 is full agreement (macro F1), "
            f"and {flagged}."
        )
    else:
        out.append(f"{flagged}.")
    out.append(
        "The tags come from an automatic tagger that makes mistakes, and short sessions give unsteady figures. "
        "Read the highlighted words in the transcript before trusting any number."
    )
    return out
