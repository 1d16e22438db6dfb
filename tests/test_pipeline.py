import subprocess
import sys

import pytest
import spacy

from conftest import cues
from mentalize_nlp.pipeline import build_pipeline
from mentalize_nlp.pipeline.rules import CueRule, RuleError, default_rules, parse_rules


def test_factories_are_found_through_entry_points_without_importing_the_package():
    code = (
        "import spacy, sys; nlp = spacy.blank('en');"
        "[nlp.add_pipe(n) for n in ('mentalize_sentences', 'mentalize_cues', 'mentalize_scope')];"
        "doc = nlp('maybe she was being a bit selfish');"
        "print(sorted({s.label_ for s in doc.spans['mentalize_cues']}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "TRAIT" in out.stdout and "HEDGE" in out.stdout


def test_components_can_join_a_users_own_pipeline():
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    build_pipeline(nlp)
    assert nlp.pipe_names == ["sentencizer", "mentalize_cues", "mentalize_scope"]
    problems = nlp.analyze_pipes()["problems"]
    assert all(not p for p in problems.values())


def test_a_cues_states_read_and_set_one_at_a_time_or_all_together(nlp):
    doc = nlp("maybe she was being a bit selfish")
    selfish = next(c for c in doc.spans["mentalize_cues"] if c.label_ == "TRAIT")
    assert selfish._.cue_states == {"hedged"} and selfish._.hedged and not selfish._.active
    selfish._.hedged = False  # a researcher's own component overruling the scope step
    assert selfish._.cue_states == frozenset() and selfish._.active
    selfish._.quoted = True
    assert selfish._.cue_states == {"quoted"} and not selfish._.active


def test_hedge_softens_a_trait_and_i_think_does_not(nlp):
    assert cues(nlp("maybe she was being a bit selfish"), "TRAIT") == [("selfish", "TRAIT", {"hedged"})]
    assert cues(nlp("I think he's a narcissist"), "TRAIT") == [("narcissist", "TRAIT", set())]


@pytest.mark.parametrize(
    ("text", "label"),
    [("my uncle is a bigot", "bigot"), ("she's such a know-it-all", "know-it-all"), ("I'm a bad friend", "bad friend")],
)
def test_name_calling_is_a_trait_cue(nlp, text, label):
    assert [c[0] for c in cues(nlp(text), "TRAIT")] == [label]


def test_but_ends_the_scope_of_a_hedge(nlp):
    doc = nlp("maybe I overreacted but he's a selfish idiot")
    assert {text: states for text, _, states in cues(doc, "TRAIT")} == {"selfish": set(), "idiot": set()}


def test_quoted_and_reported_labels_are_marked_and_endorsement_is_seen(nlp):
    reported = cues(nlp("and she goes 'you're pathetic'"), "TRAIT")
    assert reported == [("pathetic", "TRAIT", {"reported", "quoted"})]
    endorsed = cues(nlp("she says I'm pathetic, and she's right, I am"), "TRAIT")
    assert "endorsed" in endorsed[0][2]


def test_negation_and_pseudo_feel(nlp):
    assert "negated" in cues(nlp("I wouldn't say he's lazy"), "TRAIT")[0][2]
    assert cues(nlp("I feel like we should leave"), "FEEL")[0][2] == {"pseudo"}
    assert cues(nlp("I feel hurt"), "FEEL")[0][2] == set()


def test_a_feeling_question_about_a_plan_is_pseudo(nlp):
    assert cues(nlp("How do you feel about starting with this plan?"), "FEELING_QUESTION")[0][2] == {"pseudo"}
    assert cues(nlp("How do you feel right now?"), "FEELING_QUESTION")[0][2] == set()


def test_mental_verbs_in_ways_of_talking_are_pseudo(nlp):
    assert cues(nlp("I mean, I was tired"), "MENTAL_VERB") == [("mean", "MENTAL_VERB", {"pseudo"})]
    assert cues(nlp("would you mind if we talked about it?"), "MENTAL_VERB")[0][2] == {"pseudo"}
    assert cues(nlp("I wonder if she meant it"), "MENTAL_VERB")[1] == ("meant", "MENTAL_VERB", {"hedged"})


def test_down_and_stress_are_feelings_only_where_they_name_one(nlp):
    assert cues(nlp("I want to cut down on smoking"), "EMOTION") == []
    assert cues(nlp("I've been feeling down all week"), "EMOTION") == [("feeling down", "EMOTION", set())]
    assert cues(nlp("smoking helps me manage stress"), "EMOTION") == [("stress", "EMOTION", {"pseudo"})]
    assert cues(nlp("the stress is getting to me"), "EMOTION") == [("stress", "EMOTION", set())]


def test_a_viewpoint_phrase_needs_the_person_whose_view_it_is(nlp):
    assert cues(nlp("I bought it for her birthday"), "PERSPECTIVE") == []
    assert cues(nlp("what's been going on for you lately?"), "PERSPECTIVE") == []
    assert [c[0] for c in cues(nlp("what do you think was going on for her?"), "PERSPECTIVE")] == ["going on for her"]


def test_contractions_and_asr_spellings_match_the_same_cue(nlp):
    for text in ("obviously he doesn't care", "obviously he doesnt care", "obviously he does not care"):
        assert [c[0] for c in cues(nlp(text), "STANCE")], text


def test_unpunctuated_speech_is_split_so_a_hedge_does_not_spread(nlp):
    doc = nlp("i was so angry shes just a selfish cow she never listens to anyone i wonder if she was stressed though")
    assert len(list(doc.sents)) >= 2
    assert cues(doc, "TRAIT")[0][2] == set()
    assert "hedged" in cues(doc, "EMOTION")[-1][2]


def test_cue_rules_reject_unknown_keys_and_categories():
    with pytest.raises(RuleError, match="unknown key"):
        CueRule.from_dict({"category": "TRAIT", "phrases": ["x"], "colour": "red"})
    with pytest.raises(RuleError, match="not one of"):
        list(parse_rules(['{"category": "TRAITS", "phrases": ["x"]}'], "mine.jsonl"))
    with pytest.raises(RuleError, match="mine.jsonl, line 1"):
        list(parse_rules(["{not json"], "mine.jsonl"))


def test_shipped_lists_cover_british_and_adolescent_feelings():
    phrases = {p for r in default_rules() if r.category == "EMOTION" for p in r.phrases}
    assert {"gutted", "wound up", "bricking it", "shook", "pressed", "numb"} <= phrases
    bodily = {p for r in default_rules() if r.category == "BODILY" for p in r.phrases}
    assert {"knackered", "tired", "exhausted"} <= bodily


def test_user_rules_replace_the_lists_and_survive_to_disk(tmp_path):
    rules = tmp_path / "rules.jsonl"
    rules.write_text('{"category": "TRAIT", "phrases": ["gremlin"]}\n', encoding="utf-8")
    nlp = build_pipeline(rules_path=str(rules))
    assert cues(nlp("he's a gremlin, a selfish one"), "TRAIT") == [("gremlin", "TRAIT", set())]
    nlp.to_disk(tmp_path / "pipe")
    rules.unlink()
    doc = spacy.load(tmp_path / "pipe")("what a selfish gremlin")
    assert [c.text for c in doc.spans["mentalize_cues"]] == ["gremlin"]


def test_a_users_token_patterns_match_whatever_words_they_need(tmp_path):
    rules = tmp_path / "rules.jsonl"
    rules.write_text(
        '{"category": "TRAIT", "pattern": [{"LOWER": "such"}, {"LOWER": "a"}, {"IS_ALPHA": true}]}\n'
        '{"category": "PSEUDO", "pattern": [{"NORM": {"IN": ["manage", "handle"]}}, {"NORM": "stress"}]}\n',
        encoding="utf-8",
    )
    nlp = build_pipeline(rules_path=str(rules))
    assert [c[0] for c in cues(nlp("she's such a pain"), "TRAIT")] == ["such a pain"]
    assert [c[0] for c in cues(nlp("I can't handle stress"), "PSEUDO")] == ["handle stress"]
    assert cues(nlp("I can't handle it"), "PSEUDO") == []


def test_nlp_pipe_tags_a_batch_as_one_call_per_text_does(nlp):
    texts = ["maybe she felt left out", "", "she's just selfish. I wonder why", "smoking helps me manage stress"] * 3
    batched = list(nlp.pipe(texts, batch_size=5))
    for text, doc in zip(texts, batched):
        single = nlp(text)
        assert [(s.start, s.end) for s in doc.sents] == [(s.start, s.end) for s in single.sents]
        assert cues(doc) == cues(single), text


def test_a_failing_batch_goes_to_the_pipelines_error_handler(monkeypatch):
    nlp = build_pipeline()
    cues_step = nlp.get_pipe("mentalize_cues")
    real = type(cues_step).__call__

    def fragile(self, doc):
        if "boom" in doc.text:
            raise ValueError("boom")
        return real(self, doc)

    monkeypatch.setattr(type(cues_step), "__call__", fragile)
    with pytest.raises(ValueError, match="boom"):  # by default the error is raised, as before
        list(nlp.pipe(["fine", "boom"]))
    seen = []
    nlp.set_error_handler(lambda name, proc, docs, exc: seen.append((name, [d.text for d in docs])))
    assert [d.text for d in nlp.pipe(["fine", "boom", "she's just selfish"], batch_size=2)] == ["she's just selfish"]
    assert seen == [("mentalize_cues", ["fine", "boom"])]


def test_the_readmes_pipeline_example_prints_what_it_says():
    import ast

    from conftest import ROOT

    block = (ROOT / "README.md").read_text(encoding="utf-8").split('doc = nlp("maybe she was being a bit selfish")', 1)[1]
    expression, comment = block.strip().splitlines()[:2]
    nlp = spacy.blank("en")
    for name in ("mentalize_sentences", "mentalize_cues", "mentalize_scope"):
        nlp.add_pipe(name)
    doc = nlp("maybe she was being a bit selfish")
    assert eval(expression, {"doc": doc}) == ast.literal_eval(comment.lstrip("# "))
