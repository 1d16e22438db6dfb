import re
from html import unescape
from html.parser import HTMLParser

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ANNOMI
from mentalize_nlp.cli import main
from mentalize_nlp.labels import LABELS
from mentalize_nlp.profiles import profile
from mentalize_nlp.report import DEFAULT_GROUP_PATTERN, ReportError, assign_groups, read_groups, therapist_responses, write_reports
from mentalize_nlp.report.data import certainty_spikes, natural_key, not_knowing_rate, read_outputs, role_figures
from mentalize_nlp.report.highlight import evidence_spans, highlight
from mentalize_nlp.report.render import _hash, page_names


def utterances(rows, session="s1"):
    """A hand-built utterance table: rows of (speaker, role, text, labels, evidence by label)."""
    records = []
    for turn, (speaker, role, text, labels, *evidence) in enumerate(rows):
        ev = evidence[0] if evidence else {}
        record = {"session": session, "turn": turn, "speaker": speaker, "role": role, "text": text, "start": "", "end": ""}
        for label in LABELS:
            record[label] = int(label in labels)
        for label in LABELS:
            record[f"p_{label}"] = 0.9 if label in labels else 0.1
        record["evidence"] = "; ".join(f"{l}: {w}" for l, w in ev.items())
        for label in LABELS:
            record[f"evidence_{label}"] = ev.get(label, "")
        records.append(record)
    return pd.DataFrame(records)


def write_outputs(folder, frame):
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "utterances.csv", index=False)
    pd.concat([profile(g) for _, g in frame.groupby("session", sort=False)], ignore_index=True).to_csv(
        folder / "profiles.csv", index=False
    )
    return folder


CL, FN, PT = "certainty_labelling", "feeling_naming", "perspective_taking"

SESSION = [
    ("T", "therapist", "How was the week?", ()),
    ("C", "client", "She's just selfish.", (CL,), {CL: "selfish"}),
    ("T", "therapist", "You sound angry.", (FN,), {FN: "angry"}),
    ("C", "client", "He never listens to anyone.", (CL,), {CL: "never"}),
    ("C", "client", "They're all liars.", (CL,), {CL: "liars"}),
    ("T", "therapist", "Right.", ()),
    ("T", "therapist", "I wonder what was going on for him.", (PT,), {PT: "I wonder"}),
    ("C", "client", "Maybe.", ()),
    ("T", "therapist", "Let's book next week.", ()),
    ("C", "client", "I know she hates me.", (CL,), {CL: "I know, hates me"}),
]


# ----------------------------------------------------------------------------- the not-knowing rate


def test_therapist_responses_follow_each_client_certainty_to_the_next_therapist_turn():
    responses = therapist_responses(utterances(SESSION))
    assert responses["client_pos"].tolist() == [1, 3, 4, 9]
    assert responses["therapist_pos"].tolist() == [2, 5, 5, -1]
    # turns 5 and 6 are one therapist turn split in two: the PT in the second counts
    assert responses["invited"].tolist()[:3] == [True, True, True]
    assert responses["invited_labels"].tolist()[:3] == ["FN", "PT", "PT"]
    assert pd.isna(responses["invited"].iloc[3])  # the session ends: no reply, not a miss
    assert not_knowing_rate(responses) == (3, 3, 1.0)


def test_not_knowing_rate_counts_replies_that_do_not_invite_mentalizing():
    frame = utterances([
        ("C", "client", "He's a narcissist.", (CL,)),
        ("T", "therapist", "What did he say?", ()),
        ("C", "client", "She always lies.", (CL,)),
        ("T", "therapist", "Maybe she was scared?", (FN, PT)),
        ("C", "client", "Everyone hates me.", (CL,)),
        ("T", "therapist", "Go on.", ()),
    ])
    invited, answered, rate = not_knowing_rate(therapist_responses(frame))
    assert (invited, answered) == (1, 3)
    assert rate == pytest.approx(1 / 3)


def test_no_rate_without_client_certainty_or_without_roles():
    assert not_knowing_rate(therapist_responses(utterances([("T", "therapist", "Hello", ())])))[1] == 0
    frame = utterances([("A", "other", "She's selfish", (CL,)), ("B", "other", "Maybe", ())])
    assert therapist_responses(frame).empty


# ----------------------------------------------------------------------------- spikes, groups, highlights


def test_certainty_spikes_find_a_cluster_and_link_its_turns():
    rows = [("C", "client", "ok", ())] * 60
    rows = [(s, r, t, (CL,) if 30 <= i < 38 and i % 2 == 0 else l) for i, (s, r, t, l) in enumerate(rows)]
    spikes, threshold = certainty_spikes(utterances(rows), window=10)
    assert len(spikes) == 1
    assert spikes[0].tagged == [30, 32, 34, 36]
    assert 30 <= spikes[0].peak <= 36
    assert threshold >= 0.3
    assert certainty_spikes(utterances([("C", "client", "ok", ())] * 20))[0] == []


def test_two_tags_at_a_sessions_edge_are_no_cluster_when_the_same_two_in_its_middle_are_none():
    """A window cut short at the start read 40% where a whole 10-turn window reads 20%."""
    def tagged_at(*turns):
        return utterances([("C", "client", "ok", (CL,) if i in turns else ()) for i in range(30)])

    assert certainty_spikes(tagged_at(15, 17), window=10)[0] == []
    assert certainty_spikes(tagged_at(1, 3), window=10)[0] == []
    assert certainty_spikes(utterances([("C", "client", "She's selfish.", (CL,))]), window=10)[0] == []


def test_default_group_pattern_groups_numbered_sessions_by_name():
    names = ["maria-01", "maria_session_2", "Maria Session 3", "james-1", "12", "session-01-sam"]
    groups = assign_groups(names)
    assert groups["maria-01"] == "maria" and groups["maria_session_2"] == "maria" and groups["Maria Session 3"] == "Maria"
    assert groups["james-1"] == "james"
    assert groups["12"] is None  # numbers alone are not split into a group and a session
    assert groups["session-01-sam"] is None
    assert assign_groups(["utf16", "notes-cp1252", "mariasession4"]) == {"utf16": None, "notes-cp1252": None, "mariasession4": "maria"}
    assert assign_groups(["x-1"], pattern=r"^(?P<group>\w)-\d$") == {"x-1": "x"}
    assert re.compile(DEFAULT_GROUP_PATTERN).groupindex["group"] == 1


def test_bad_group_pattern_and_mapping_file_are_explained(tmp_path):
    with pytest.raises(ReportError, match="named group 'group'"):
        assign_groups(["a-1"], pattern=r"^\w+-\d+$")
    with pytest.raises(ReportError, match="not a valid regular expression"):
        assign_groups(["a-1"], pattern="(")
    bad = tmp_path / "groups.csv"
    bad.write_text("name,client\na,b\n", encoding="utf-8")
    with pytest.raises(ReportError, match="'session' or 'group'"):
        read_groups(bad)
    good = tmp_path / "good.csv"
    good.write_text("session,group\ns1,Ana\ns2,Ana\n", encoding="utf-8")
    assert read_groups(good) == {"s1": "Ana", "s2": "Ana"}


def test_evidence_is_highlighted_with_colour_class_and_a_text_marker():
    html = str(highlight("I can see why she'd be upset", {PT: "I can see why", FN: "upset"}))
    assert '<mark class="ev ev-pt"' in html and '<mark class="ev ev-fn"' in html
    assert "[PT]</span>" in html and "[FN]</span>" in html
    assert evidence_spans("She always, always does", {CL: ["always"]}) == [(4, 10, CL)]
    # words are matched whole: "he" is not found inside "she" or "the"
    assert evidence_spans("she and the dog", {CL: "he"}) == []
    overlap = str(highlight("maybe she was scared", {PT: "maybe she", FN: "scared", CL: "she"}))
    assert "[CL+PT]" in overlap


def test_highlight_escapes_the_text_and_the_evidence():
    html = str(highlight("<b>so</b> & he's <i>cruel</i>", {CL: "cruel"}))
    assert "<b>" not in html and "&lt;b&gt;so&lt;/b&gt; &amp; he&#39;s &lt;i&gt;" in html
    assert "cruel<span" in html


# ----------------------------------------------------------------------------- pages


class _Links(HTMLParser):
    """Every URL-valued attribute, every element name, and the text of <script> and <style>."""

    def __init__(self):
        super().__init__()
        self.urls, self.tags, self.scripts, self.styles, self.csp = [], [], [], [], []
        self._in = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "srcset", "poster", "data", "formaction") and value:
                self.urls.append(value)
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "content-security-policy":
            self.csp.append(dict(attrs)["content"])
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "style":
            self.styles.append(data)


def parse(path):
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture()
def batch(tmp_path):
    hostile = [
        ("T", "therapist", "How was the week?", ()),
        ("C", "client", "He wrote <script>alert('x')</script> on my wall, he's a <b>monster</b>", (CL,), {CL: "monster"}),
        ("T", "therapist", "NA", ()),
    ]
    frame = pd.concat([
        utterances(SESSION, session="ana-01"),
        utterances(SESSION[:6], session="ana-02"),
        utterances(hostile, session="<img src=x onerror=alert(1)>"),
        utterances(SESSION[:3], session="index"),
    ], ignore_index=True)
    return write_outputs(tmp_path / "out", frame)


def test_one_page_per_session_and_an_index(batch):
    pages = write_reports(batch)
    report = batch / "report"
    assert pages[-1] == report / "index.html"
    assert len(pages) == 5 and len(set(pages)) == 5
    assert sorted(p.name for p in report.glob("*.html")) == sorted(p.name for p in pages)
    assert all(p.parent == report for p in pages)
    assert "index.html" not in [p.name for p in pages[:-1]]  # a session called "index" gets another name
    assert not list(report.glob(".*.part"))  # written atomically: no temporary files left behind
    index = (report / "index.html").read_text(encoding="utf-8")
    for page in pages[:-1]:
        assert f'href="{page.name}"' in index


def test_transcript_text_is_escaped(batch):
    pages = write_reports(batch)
    hostile = next(p for p in pages if "img" in p.name)
    html = hostile.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>alert" not in html and "<b>monster" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    parsed = parse(hostile)
    assert parsed.tags.count("script") == 1 and "img" not in parsed.tags
    assert ">NA<" in html  # keep_default_na=False: "NA" is text, not a missing value
    index = (batch / "report" / "index.html").read_text(encoding="utf-8")
    assert "<img" not in index


def test_pages_carry_a_strict_content_security_policy(batch):
    for page in write_reports(batch):
        parsed = parse(page)
        assert len(parsed.csp) == 1
        policy = dict(part.strip().split(" ", 1) for part in parsed.csp[0].split(";"))
        assert policy["default-src"] == "'none'"
        assert policy["img-src"] == "data:"
        assert "unsafe-inline" not in parsed.csp[0] and "unsafe-eval" not in parsed.csp[0]
        assert policy["style-src"] == " ".join(_hash(s) for s in parsed.styles)
        assert policy["script-src"] == (" ".join(_hash(s) for s in parsed.scripts) or "'none'")


def test_pages_reference_nothing_outside_the_file(batch):
    for page in write_reports(batch):
        parsed = parse(page)
        html = page.read_text(encoding="utf-8")
        assert not [u for u in parsed.urls if re.match(r"^\s*(https?:|//|ftp:|file:)", u, re.I)], page.name
        assert all(u.startswith("#") or u.endswith(".html") for u in parsed.urls), parsed.urls
        assert "link" not in parsed.tags and "iframe" not in parsed.tags
        assert "@import" not in html and "url(http" not in html and "@font-face" not in html
        assert 'style="' not in html  # no inline style attributes, which the policy would block


def test_session_page_shows_every_part(batch):
    write_reports(batch)
    html = (batch / "report" / "ana-01.html").read_text(encoding="utf-8")
    for anchor in ('id="profile"', 'id="timeline"', 'id="responses"', 'id="transcript"', 'id="reading"'):
        assert anchor in html
    assert html.count('<svg') >= 2 and 'role="img"' in html
    assert "supervision aid, not an assessment" in html
    assert '<p id="not-knowing-rate">The therapist replied to 3 client certainty statements.</p>' in html
    assert "✓" not in html and "✗" not in html and "%" not in html.split('id="responses"')[1].split("</section>")[0]
    assert 'href="#u1"' in html and 'href="#u2"' in html  # the response table links to the turns
    assert html.count('tabindex="0"') == len(SESSION)  # probabilities reachable by keyboard
    assert 'role="tooltip"' in html and "p = 0.90" in html
    assert 'id="filter-label"' in html and 'id="filter-speaker"' in html
    assert "<mark class=\"ev ev-cl\"" in html and "[CL]" in html


def test_the_reading_gives_the_corrected_certainty_rate_beside_the_tagged_one(batch):
    """It gave only the tagged rate, even where the page's own corrected interval left it out."""
    write_reports(batch)
    html = (batch / "report" / "ana-01.html").read_text(encoding="utf-8")
    reading = unescape(html.split('id="reading"')[1].split("</section>")[0])
    profiles = pd.read_csv(batch / "profiles.csv")
    client = profiles[(profiles["session"] == "ana-01") & (profiles["role"] == "client")].iloc[0]
    assert f"corrected for the tagger's known errors, about {client['certainty_labelling_adjusted_per_100']:.0f} per 100" in reading
    assert "for certainty labelling alone" in reading


def test_a_tag_without_a_cue_word_says_so_in_the_transcript(tmp_path):
    rows = [*SESSION[:3], ("C", "client", "Derek's not my sister.", (CL,), {CL: "no cue word; model score 0.71"})]
    write_reports(write_outputs(tmp_path / "out", utterances(rows)))
    html = (tmp_path / "out" / "report" / "s1.html").read_text(encoding="utf-8")
    row = html.split('id="u3"')[1].split("</tr>")[0]
    assert "no cue word; model score 0.71" in row and "<mark" not in row


def test_each_rate_interval_holds_the_estimate_it_is_shown_with(batch):
    write_reports(batch)
    for page in ("ana-01.html", "index.html"):
        html = (batch / "report" / page).read_text(encoding="utf-8")
        shown = re.findall(r'class="interval"> \[(\d+): (\d+)–(\d+)\]', html)
        assert shown, page
        assert all(int(low) <= int(estimate) <= int(high) for estimate, low, high in shown), shown


def test_one_speakers_rate_interval_is_the_one_in_profiles_csv(batch):
    profiles = pd.read_csv(batch / "profiles.csv")
    rows = profiles[(profiles["session"] == "ana-01") & (profiles["role"] == "client")]
    assert len(rows) == 1
    figures = role_figures(rows, "client")
    for label in LABELS:
        assert figures.per_100_low[label] == pytest.approx(rows[f"{label}_per_100_low"].iloc[0])
        assert figures.per_100_high[label] == pytest.approx(rows[f"{label}_per_100_high"].iloc[0])
        assert figures.adjusted_per_100[label] == pytest.approx(rows[f"{label}_adjusted_per_100"].iloc[0])


def test_index_shows_trends_for_sessions_sharing_a_group(batch):
    write_reports(batch)
    index = (batch / "report" / "index.html").read_text(encoding="utf-8")
    assert 'id="trends"' in index and "Trend across sessions: ana" in index
    write_reports(batch, groups={"ana-01": "Trainee B", "index": "Trainee B"})
    index = (batch / "report" / "index.html").read_text(encoding="utf-8")
    assert "Trend across sessions: Trainee B" in index and "Trend across sessions: ana" not in index


def test_a_folder_without_utterances_is_refused_by_name(tmp_path):
    with pytest.raises(ReportError, match="has no utterances.csv"):
        write_reports(tmp_path)
    result = CliRunner().invoke(main, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "utterances.csv" in result.output


def test_report_command_writes_pages_with_groups(batch, tmp_path):
    groups = tmp_path / "groups.csv"
    groups.write_text("session,group\nana-01,Ana\nana-02,Ana\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(batch), "--groups", str(groups)])
    assert result.exit_code == 0, result.output
    assert (batch / "report" / "index.html").exists()
    assert "Trend across sessions: Ana" in (batch / "report" / "index.html").read_text(encoding="utf-8")
    bad = CliRunner().invoke(main, ["report", str(batch), "--group-pattern", r"^\w+$"])
    assert bad.exit_code == 2 and "named group 'group'" in bad.output


def test_outputs_are_read_with_text_kept_as_text(batch):
    frame, profiles = read_outputs(batch)
    assert frame.loc[frame["text"] == "NA", "text"].tolist() == ["NA"]
    assert set(profiles["session"]) == set(frame["session"])


@pytest.mark.slow
@pytest.mark.skipif(not ANNOMI.exists(), reason="AnnoMI is read from ../shared")
def test_reports_for_all_annomi_sessions(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "score", str(ANNOMI), "--out", str(out), "--session-column", "transcript_id", "--turn-column", "utterance_id",
        "--speaker-column", "interlocutor", "--text-column", "utterance_text", "--html",
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    report = out / "report"
    pages = sorted(report.glob("*.html"))
    assert len(pages) == 134
    index = (report / "index.html").read_text(encoding="utf-8")
    sessions = pd.read_csv(out / "utterances.csv", keep_default_na=False, dtype={"session": str})["session"].unique()
    assert len(sessions) == 133
    for session in sessions:
        assert f'href="{session}.html"' in index
    sample = (report / f"{sessions[0]}.html").read_text(encoding="utf-8")
    assert "<svg" in sample and 'id="transcript-table"' in sample


def test_highlight_marks_the_exact_words_the_tagger_recorded():
    import json

    from mentalize_nlp.report.highlight import highlight

    text = "Hurt? No. Then I felt hurt."
    second = text.rindex("hurt")
    offsets = json.dumps([{"label": "feeling_naming", "start": second, "end": second + 4, "text": "hurt"}])
    html = str(highlight(text, {"feeling_naming": "hurt"}, offsets))
    assert html.startswith("Hurt? No.")  # the first "Hurt" is not the evidence
    assert html.count("<mark") == 1 and "felt <mark" in html


# ----------------------------------------------------------------------------- any name


def _named(session, speaker="T"):
    """SESSION with the therapist called ``speaker``, as session ``session``."""
    return utterances([(speaker if s == "T" else s, *rest) for s, *rest in SESSION], session=session)


def _svg(html, chart_id):
    return re.search(rf'<svg[^>]* id="{chart_id}".*?</svg>', html, re.DOTALL).group(0)


def test_a_speaker_named_like_maths_is_plain_text_in_the_charts(tmp_path):
    """A speaker called $\\frac{a}$ crashed --html (matplotlib read the name as a formula)."""
    out = write_outputs(tmp_path / "out", _named("s1", speaker="$\\frac{a}$"))
    page = write_reports(out)[0].read_text(encoding="utf-8")
    assert "$\\frac{a}$ (therapist)" in _svg(page, "profile-chart")


def test_any_session_name_sorts_and_gets_a_short_safe_page_name(tmp_path):
    """A file named ².txt (a superscript two, not a digit) and a 5,000-digit name crashed --html."""
    names = ["s10", "²", "s2", "s٣", "1" * 5000, "con", "a" * 40_000, "x/../y", "s1"]
    out = write_outputs(tmp_path / "out", pd.concat([_named(n, speaker="T" * 40_000) for n in names], ignore_index=True))
    pages = write_reports(out)
    files = [p.name for p in pages[:-1]]
    assert len({f.lower() for f in files}) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.html", f) and len(f.encode()) <= 100 for f in files)
    assert "con.html" not in files  # a name Windows refuses
    index = pages[-1].read_text(encoding="utf-8")
    order = [index.index(f'href="{f}"') for f in files]
    assert order == sorted(order)  # the index lists the pages as they were returned, in natural order
    page = dict(zip(sorted(names, key=natural_key), files))
    numbered = [page[n] for n in ("s1", "s2", "s٣", "s10")]  # ٣ is an Arabic-Indic three
    assert [f for f in files if f in numbered] == numbered
    chart = _svg(pages[0].read_text(encoding="utf-8"), "profile-chart")
    assert "T" * 39 + "…" in chart and "T" * 41 not in chart  # a long name is shortened in the chart only


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=8, unique=True))
def test_any_names_sort_and_get_distinct_safe_page_names(names):
    ordered = sorted(names, key=natural_key)  # any two keys compare: no int() of text, no digit limit
    assert [natural_key(n) for n in ordered] == sorted(natural_key(n) for n in reversed(names))
    files = list(page_names(ordered).values())
    assert len({f.lower() for f in files}) == len(names) and "index.html" not in files
    for f in files:
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*\.html", f) and len(f.encode()) <= 100, f
        assert f.split(".")[0].lower() not in {"con", "prn", "aux", "nul", "com1", "lpt1"}


def test_a_long_session_name_takes_no_longer_than_a_short_one(tmp_path):
    """A 40,000-character session name made 'report' take 23 s (the group pattern backtracked)."""
    import time

    def seconds(n):
        out = write_outputs(tmp_path / f"n{n}", _named("a" + " " * n + "b"))
        start = time.perf_counter()
        write_reports(out, jobs=1)
        return time.perf_counter() - start

    seconds(10)  # charts and templates set up once
    short, long = seconds(4_000), seconds(40_000)
    assert long < 3 * short + 0.5  # linear: 10 times the name costs next to nothing; quadratic was 100 times


# ----------------------------------------------------------------------------- written whole


def folder_bytes(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_report_that_fails_midway_leaves_the_previous_report_whole(tmp_path, monkeypatch, jobs):
    """An interrupted --html left pages without an index, or new pages beside an old index."""
    from mentalize_nlp.report import render

    frame = pd.concat([_named(f"s{k}") for k in range(1, 17)], ignore_index=True)
    out = write_outputs(tmp_path / "out", frame)
    write_reports(out, jobs=jobs)
    before = folder_bytes(out)
    real = render.session_context
    calls = []

    def fails_on_the_third(figures, **kwargs):
        calls.append(figures.name)
        if figures.name == "s3":
            raise OSError(28, "No space left on device")
        return real(figures, **kwargs)

    monkeypatch.setattr(render, "session_context", fails_on_the_third)
    write_outputs(out, frame.assign(text=frame["text"] + " (edited)"))
    before_csv = {k: v for k, v in folder_bytes(out).items() if k.parts[0] != "report"}
    with pytest.raises(OSError, match="No space left"):
        write_reports(out, jobs=jobs)
    after = folder_bytes(out)
    assert {k: v for k, v in after.items() if k.parts[0] == "report"} == {k: v for k, v in before.items() if k.parts[0] == "report"}
    assert {k: v for k, v in after.items() if k.parts[0] != "report"} == before_csv
    assert sorted(p.name for p in out.iterdir()) == ["profiles.csv", "report", "utterances.csv"]  # no temporary folder


def test_pages_of_sessions_gone_from_the_folder_go_and_ones_own_files_stay(tmp_path):
    out = write_outputs(tmp_path / "out", pd.concat([_named("old-01"), _named("kept-01")], ignore_index=True))
    write_reports(out)
    (out / "report" / "notes.html").write_text("<p>my own notes</p>", encoding="utf-8")
    (out / "report" / "drafts").mkdir()
    (out / "report" / "drafts" / "a.txt").write_text("draft", encoding="utf-8")
    write_outputs(out, pd.concat([_named("new-01"), _named("kept-01")], ignore_index=True))
    write_reports(out)
    assert sorted(p.name for p in (out / "report").iterdir()) == ["drafts", "index.html", "kept-01.html", "new-01.html", "notes.html"]
    assert (out / "report" / "drafts" / "a.txt").read_text(encoding="utf-8") == "draft"


def test_a_chart_is_the_same_whatever_was_drawn_before_it(tmp_path):
    """The charts' figures are reused from page to page: nothing of one page may show on the next."""
    from mentalize_nlp.report import charts
    from mentalize_nlp.report.data import session_figures

    three = utterances([*SESSION, ("X", "other", "Hello.", ())], session="b")
    frame = pd.concat([utterances(SESSION, session="a"), three], ignore_index=True)
    profiles = pd.concat([profile(g) for _, g in frame.groupby("session")], ignore_index=True)
    a, b = (session_figures(s, frame, profiles, window=3) for s in ("a", "b"))
    first = charts.profile_chart(a), charts.timeline_chart(a)
    charts.profile_chart(b), charts.timeline_chart(b)
    assert (charts.profile_chart(a), charts.timeline_chart(a)) == first


def test_spreadsheet_safe_cells_read_as_they_were_and_stay_safe_after_redact(tmp_path):
    """'mentalize score' puts a ' before a CSV cell a spreadsheet would run: the report showed it,
    and highlighted the evidence one character off; --redact wrote the cells back runnable."""
    rows = [("=T", "=SUM(1) you always lie, you're so selfish."), ("C", "-- I feel so hurt and angry."),
            ("=T", "+1 I wonder what he felt then."), ("C", "@home he never listens, he's a liar.")]
    transcript = tmp_path / "=s.csv"
    pd.DataFrame(rows, columns=["speaker", "text"]).to_csv(transcript, index=False)
    for extra in ((), ("--redact",)):
        out = tmp_path / f"out{len(extra)}"
        result = CliRunner().invoke(main, ["score", str(transcript), "--out", str(out), "--html", "--therapist", "=T", *extra])
        assert result.exit_code == 0, result.output
        table = pd.read_csv(out / "utterances.csv", dtype=str, keep_default_na=False)
        assert table["text"].str.match(r"'[=+\-@]").all() and set(table["session"]) == {"'=s"}
        page = next(p for p in (out / "report").glob("*.html") if p.name != "index.html").read_text(encoding="utf-8")
        assert "=SUM(1) you always lie" in page and "&#39;=SUM" not in page and "&#39;--" not in page
        marks = re.findall(r'<mark class="ev [^"]*" title="evidence[^"]*">([^<]*)', page)
        assert marks and all(re.fullmatch(r"\w[\w ]*\w", m) for m in marks), marks  # whole words, not one character off
