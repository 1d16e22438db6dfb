"""Every example sentence of spec/labels.md with the labels the spec gives it."""

CL, FN, PT = "certainty_labelling", "feeling_naming", "perspective_taking"

SPEC_EXAMPLES: list[tuple[str, set[str]]] = [
    # certainty_labelling
    ("she's just selfish", {CL}),
    ("he's a narcissist", {CL}),
    ("I'm such an idiot", {CL}),
    ("they're all liars", {CL}),
    ("he never listens to anyone", {CL}),
    ("she always makes it about her", {CL}),
    ("he did it to humiliate me", {CL}),
    ("I know she hates me", {CL}),
    ("obviously he doesn't care", {CL}),
    ("maybe she was being a bit selfish", set()),
    ("she left early", set()),
    ("the clinic is closed on Mondays", set()),
    # feeling_naming
    ("I felt really hurt", {FN}),
    ("I'm furious right now", {FN}),
    ("I guess I was jealous", {FN}),
    ("you sound frustrated", {FN}),
    ("she was embarrassed", {FN}),
    ("what are you feeling as you tell me this?", {FN}),
    ("how did that make you feel?", {FN}),
    ("I feel like we should leave", set()),
    ("I'm tired", set()),
    ("I feel sick", set()),
    ("a sad film", set()),
    ("happy birthday", set()),
    # perspective_taking (an emotion word inside a perspective statement also names a feeling)
    ("Maybe she was thinking about work", {PT}),
    ("I wonder if he thought I was angry with him", {PT, FN}),
    ("from her side it might have looked like I didn't care", {PT}),
    ("perhaps I snapped because I was scared of being ignored", {PT, FN}),
    ("what do you think was going on for her?", {PT}),
    ("I can see why she'd be upset", {PT, FN}),
    ("I think the bus is at six", set()),
    # none
    ("mm-hmm", set()),
    ("yeah", set()),
    # decision rules
    ("maybe she was stressed", {PT, FN}),
    ("and she goes 'you're pathetic'", set()),
    ("my last therapist said I had abandonment issues", set()),
    ("maybe I'm just a bad person", set()),
    ("I think he's a narcissist", {CL}),
    ("she never replied", set()),
    ("she never replies, ever", {CL}),
    ("he always picks me up on Fridays", set()),
    ("he's a real genius", {CL}),
    ("angry, or more hurt?", {FN}),
    ("I wonder if part of you was hurt that he didn't ask", {FN, PT}),
    ("How's your week been?", set()),
    ("what was that like?", set()),
    ("that must have been frightening", {FN}),
    ("maybe her phone was dead", set()),
    # examples with several labels
    ("I was so angry, she's just a selfish cow", {FN, CL}),
    ("I think she might have felt humiliated in front of everyone", {FN, PT}),
    ("You're obviously upset with me", {FN, CL}),
]
