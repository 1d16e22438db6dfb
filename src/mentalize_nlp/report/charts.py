"""Charts as inline SVG, drawn with matplotlib.

Why matplotlib: it is the long-kept, ubiquitous plotting library of the scientific Python
stack, already a wheel on every platform, and its SVG backend writes a plain string with no
browser, JavaScript runtime or network involved. (Altair needs vl-convert, a bundled
JavaScript engine of some 100 MB, to make static SVG, and Vega-Lite charts that are rendered
in the page would need a script from the network or a large inline one.)

The SVG is made safe to inline in a page with a strict Content-Security-Policy:

- text stays text (``svg.fonttype = "none"``) with no font named in the chart, so the page's
  system font stack applies and nothing is fetched;
- every ``style="…"`` attribute becomes SVG presentation attributes, and matplotlib's
  ``<style>`` element is dropped, so the policy needs no ``'unsafe-inline'``;
- ids are prefixed per chart, so several charts in one page never clash;
- the chart gets ``role="img"``, a ``<title>`` and a ``<desc>`` for screen readers;
- names are plain text (never read as maths), on one line, shortened past 40 characters.

A batch draws the same two charts for every page, so their figures are built once per
process and only their data is set for each page (see ``_Canvas``); text sizes are
measured once. Drawing is most of the time a page takes.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies), and each
label also has its own line style, marker and hatch, so charts read in greyscale too.
"""

from __future__ import annotations

import copy
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

import matplotlib
import numpy as np
from markupsafe import Markup
from matplotlib.artist import Artist
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator
from matplotlib.textpath import TextToPath

from ..labels import LABELS
from .data import ABBREVIATIONS, NAMES, RoleFigures, SessionFigures

COLOURS: dict[str, str] = {"certainty_labelling": "#D55E00", "feeling_naming": "#0072B2", "perspective_taking": "#009E73"}
LINESTYLES: dict[str, str] = {"certainty_labelling": "-", "feeling_naming": "--", "perspective_taking": ":"}
MARKERS: dict[str, str] = {"certainty_labelling": "^", "feeling_naming": "o", "perspective_taking": "D"}
HATCHES: dict[str, str] = {"certainty_labelling": "////", "feeling_naming": "", "perspective_taking": "\\\\\\"}
INK = "#1f2328"
MUTED = "#59636e"
GRID = "#d8dee4"

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
ET.register_namespace("", _SVG)
ET.register_namespace("xlink", _XLINK)

_RC = {
    "svg.fonttype": "none",
    "text.usetex": False,
    "text.parse_math": False,  # names are text: a speaker called "$x$" is not a formula
    "svg.hashsalt": "mentalize-report",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titley": 1.0,  # titles above the axes, not placed by measuring what is there
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "hatch.color": "#ffffff",
    "hatch.linewidth": 1.2,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "figure.facecolor": "white",
}


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(_RC):
        yield


def signed(value: float, digits: int = 2) -> str:
    """``+0.80`` / ``−0.07``: a signed number with a true minus sign."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text.replace("-", "\u2212")  # nought has no sign


def speaker_label(speaker: str, role: str) -> str:
    """``T (therapist)``, or just ``therapist`` when the speaker is named by the role."""
    return speaker if speaker.strip().lower() == role.strip().lower() else f"{speaker} ({role})"


_NAME_CHARS = 40
"""Names longer than this are shortened in charts (the page shows them whole)."""


def _plain(name: str) -> str:
    """A name as chart text: one line, printable characters only, at most :data:`_NAME_CHARS` long."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(name)[: 4 * _NAME_CHARS]).split())
    return text if len(text) <= _NAME_CHARS else text[: _NAME_CHARS - 1].rstrip() + "…"


def _margins(fig: Figure, *, left: float, right: float, top: float, bottom: float, wspace: float = 0.0) -> None:
    """Fixed margins in inches (constrained layout would cost half the drawing time of a page)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height, wspace=wspace)


def _legend_name(label: str) -> str:
    return f"{ABBREVIATIONS[label]}  {NAMES[label]}"


# ----------------------------------------------------------------------------- SVG clean-up

_DROP_PROPERTIES = {"font-family", "font"}
_URL = re.compile(r"url\(#([^)]+)\)")
_NUMBERED = re.compile(r"(.+)_(\d+)")


_TEXT_TO_PATH = TextToPath()


@lru_cache(maxsize=4096)
def _text_size(text: str, font: FontProperties, math: bool | str) -> tuple[float, float, float]:
    return _TEXT_TO_PATH.get_text_width_height_descent(text, font, math)


class _Renderer(RendererSVG):
    """matplotlib's SVG renderer, remembering the size of each text from one chart to the next.

    Measuring text is much of the time a chart takes to draw, and most of its words (ticks,
    titles, legends) are the same on every page; matplotlib's own cache lasts one drawing.
    """

    def get_text_width_height_descent(self, s: str, prop: FontProperties, ismath: bool | str) -> tuple[float, float, float]:
        return _text_size(s, prop.copy(), ismath)  # a copy: the cache key must not change under it


def _draw_svg(fig: Figure) -> str:
    """The figure as SVG text, sized in points (what ``savefig(format="svg")`` writes); call within :func:`_style`."""
    buffer = io.StringIO()
    fig.set_dpi(72)
    width, height = fig.get_size_inches()
    renderer = _Renderer(width * 72, height * 72, buffer, metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    fig.draw(renderer)
    renderer.finalize()
    return buffer.getvalue()


_REFERENCE = re.compile(r"#([^\s)\"']+)")


class _Canvas:
    """A chart's figure, built once per process and redrawn for each page.

    Building a figure costs about as much as drawing it, and much of a chart is the same on
    every page: subclasses make the axes, titles and legend once, and each page sets only
    its data. Parts that most pages draw alike (:meth:`fixed_parts`: the legend, an axis with
    fixed ticks) are drawn once per look and their SVG reused; the axis labels are placed
    once (:meth:`_fix_axis_labels`).
    """

    _KEPT = 64
    """Drawn parts kept for reuse, at most."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self._drawn: dict[tuple[str, object], tuple[str, str | None, ET.Element]] = {}  # (id, look) -> parent, after, SVG
        self._labels_fixed = False

    def fixed_parts(self) -> dict[str, tuple[Artist, object]]:
        """Parts to draw once per look, by id: each artist, and what its drawing depends on (its look)."""
        raise NotImplementedError

    def svg(self) -> ET.Element:
        """The figure, as drawn now, as an SVG element tree."""
        parts = self.fixed_parts()
        if len(self._drawn) > self._KEPT:
            self._drawn.clear()
        for gid, (artist, look) in parts.items():
            artist.set_gid(gid)
            artist.set_visible((gid, look) not in self._drawn)
        root = ET.fromstring(_draw_svg(self.fig))
        if not self._labels_fixed:
            self._fix_axis_labels()
            self._labels_fixed = True
        for gid, (artist, look) in parts.items():
            if artist.get_visible():
                self._drawn[gid, look] = _detach(root, gid)
        defined = {el.get("id") for el in root.iter() if el.get("id")}
        for gid, (_, look) in parts.items():
            parent_id, after, group = self._drawn[gid, look]
            group = copy.deepcopy(group)
            for defs in list(group.iter(f"{{{_SVG}}}defs")):
                for definition in list(defs):
                    if definition.get("id") in defined:
                        defs.remove(definition)
            parent = next(p for p in root.iter() if p.get("id") == parent_id)
            siblings = [c.get("id") for c in parent]
            parent.insert(siblings.index(after) + 1 if after else len(siblings), group)  # where it was drawn
            defined.update(el.get("id") for el in group.iter() if el.get("id"))
        return root

    def _fix_axis_labels(self) -> None:
        """Keep each axis label where the first drawing put it, clear of the tick labels.

        matplotlib measures every tick label again on each drawing to place the axis labels;
        the tick labels beside a label have the same height (digits, the same words) on every
        page, so its place, in axes coordinates, does not change.
        """
        for ax in self.fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                label = axis.label
                where = ax.transAxes.inverted().transform(label.get_transform().transform(label.get_position()))
                axis.set_label_coords(*where)


def _detach(root: ET.Element, gid: str) -> tuple[str, str | None, ET.Element]:
    """Remove the group ``gid`` from ``root``, made to stand alone; return its parent's id, the
    id of the group it follows (None when it is drawn last), and the group.

    The group gets copies of the definitions it uses from elsewhere (markers, hatch patterns,
    clip paths) and ids of its own, so that it can be put into another drawing of the figure.
    """
    parent = next(p for p in root.iter() if any(c.get("id") == gid for c in p))
    children = list(parent)
    group = next(c for c in children if c.get("id") == gid)
    k = children.index(group)
    after = children[k - 1].get("id") if k + 1 < len(children) else None
    parent.remove(group)
    inside = {el.get("id") for el in group.iter() if el.get("id")}
    used = {m for el in group.iter() for value in el.attrib.values() for m in _REFERENCE.findall(value)}
    outside = [el for el in root.iter() if el.get("id") in used - inside]
    if outside:
        defs = ET.Element(f"{{{_SVG}}}defs")
        defs.extend(copy.deepcopy(el) for el in outside)
        group.insert(0, defs)
    for n, el in enumerate(el for el in group.iter() if el.get("id") and el.get("id") not in used and el is not group):
        el.set("id", f"{gid}-{n}")
    return parent.get("id"), after, group  # type: ignore[return-value]


def _to_inline_svg(root: ET.Element, chart_id: str, title: str, description: str) -> Markup:
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{_SVG}}}metadata", f"{{{_SVG}}}style"):
                parent.remove(child)
    # matplotlib numbers its groups (line2d_7) in the order it draws them, which depends on the
    # parts reused from earlier pages: number them again in document order, so that a page is
    # the same whatever was drawn before it
    rename, counts = {}, Counter()
    for el in root.iter():
        old = el.get("id")
        if old:
            numbered = _NUMBERED.fullmatch(old)
            if numbered:
                counts[numbered[1]] += 1
            new = f"{numbered[1]}_{counts[numbered[1]]}" if numbered else old
            rename[old] = f"{chart_id}-{new.replace('.', '-')}"

    def relink(match: re.Match[str]) -> str:
        return f"url(#{rename.get(match.group(1), match.group(1))})"

    for el in root.iter():
        style = el.attrib.pop("style", None)
        if style:
            for declaration in style.split(";"):
                name, _, value = declaration.partition(":")
                name, value = name.strip(), value.strip()
                if name and value and name not in _DROP_PROPERTIES:
                    el.set(name, value)
        for key, value in list(el.attrib.items()):
            if key == "id":
                el.set("id", rename[value])
            elif "url(#" in value:
                el.set(key, _URL.sub(relink, value))
            elif value.startswith("#") and value[1:] in rename:  # a link, not a colour
                el.set(key, "#" + rename[value[1:]])
    for key in ("width", "height", "version"):
        root.attrib.pop(key, None)
    root.set("class", "chart")
    root.set("role", "img")
    root.set("aria-labelledby", f"{chart_id}-title {chart_id}-desc")
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    root.set("id", chart_id)
    desc = ET.Element(f"{{{_SVG}}}desc", id=f"{chart_id}-desc")
    desc.text = description
    head = ET.Element(f"{{{_SVG}}}title", id=f"{chart_id}-title")
    head.text = title
    root.insert(0, desc)
    root.insert(0, head)
    text = ET.tostring(root, encoding="unicode")
    text = re.sub(r">\s+<", "><", text)
    return Markup(text)


# ----------------------------------------------------------------------------- charts


class _ProfileCanvas(_Canvas):
    """The profile chart for ``n`` speakers; each page sets the speakers, the bars' lengths and their labels."""

    HEIGHT = 0.26

    def __init__(self, n: int) -> None:
        super().__init__(Figure(figsize=(8.6, 1.35 + 0.72 * n)))
        self.rates_ax, self.balance_ax = self.fig.subplots(1, 2, width_ratios=[2.4, 1.0], sharey=True)
        self.y = np.arange(n)
        zeros = np.zeros(n)
        self.rate_bars = []
        for k, label in enumerate(LABELS):
            self.rate_bars.append(self.rates_ax.barh(
                self.y + (k - 1) * self.HEIGHT, zeros, height=self.HEIGHT * 0.92, color=COLOURS[label], hatch=HATCHES[label],
                edgecolor="white", linewidth=0.0, label=_legend_name(label),
            ))
        self.rates_ax.set_yticks(self.y, [""] * n)
        self.rates_ax.invert_yaxis()
        self.rates_ax.set_xlabel("per 100 of the speaker's utterances")
        self.rates_ax.set_title("How often each label occurs")
        self.rates_ax.xaxis.grid(True, color=GRID, linewidth=0.6)
        self.rates_ax.set_axisbelow(True)
        self.legend = self.fig.legend(loc="lower center", ncols=3, handlelength=1.6, bbox_to_anchor=(0.5, 0.0))
        self.balance_bars = self.balance_ax.barh(self.y, zeros, height=0.5, edgecolor="white", linewidth=0.0)
        self.balance_ax.axvline(0, color=MUTED, linewidth=0.8)
        self.balance_ax.set_xlim(-1.35, 1.35)
        self.balance_ax.set_xticks([-1, 0, 1], ["−1\ncertainty", "0", "+1\nmentalizing"])
        self.balance_ax.set_title("Mentalizing balance")
        self.balance_ax.yaxis.set_visible(False)  # it shares the speakers with the rates; no ticks of its own
        self.balance_ax.xaxis.grid(True, color=GRID, linewidth=0.6)
        self.balance_ax.set_axisbelow(True)
        self.labels: list[Artist] = []

    def fixed_parts(self) -> dict[str, tuple[Artist, object]]:
        # the axes move with the longest speaker label (their left edge); the rate axis changes with its scale too
        left = self.rates_ax.get_position().x0
        return {
            "legend": (self.legend, None),
            "rate-axis": (self.rates_ax.xaxis, (left, self.rates_ax.get_xlim())),
            "balance-axis": (self.balance_ax.xaxis, left),
        }

    def draw(self, speakers: list[str], rates: dict[str, np.ndarray], balances: np.ndarray) -> ET.Element:
        """Set one page's figures on the canvas (``rates`` per label and ``balances`` per speaker)."""
        for text in self.labels:
            text.remove()
        self.labels = []
        longest = max((len(s) for s in speakers), default=4)
        _margins(self.fig, left=0.25 + 0.068 * longest, right=0.5, top=0.3, bottom=0.9, wspace=0.12)
        self.rates_ax.set_yticks(self.y, speakers)
        top = 0.0
        for label, bars in zip(LABELS, self.rate_bars):
            values = rates[label]
            top = max(top, float(values.max()))
            for bar, value in zip(bars, values):
                bar.set_width(value)
            bars.datavalues = values  # what bar_label reads for the labels' side
            self.labels += self.rates_ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], padding=2, fontsize=7.5, color=INK)
        self.rates_ax.set_xlim(0, max(10.0, top * 1.18))
        shown = np.nan_to_num(balances, nan=0.0)
        for bar, value in zip(self.balance_bars, shown):
            bar.set_width(value)
            bar.set_facecolor("#009E73" if value >= 0 else "#D55E00")
            bar.set_hatch("" if value >= 0 else "////")
        self.balance_bars.datavalues = shown
        self.labels += self.balance_ax.bar_label(
            self.balance_bars, labels=["n/a" if np.isnan(v) else signed(v) for v in balances], padding=3, fontsize=7.5, color=INK,
        )
        return self.svg()


@lru_cache(maxsize=8)
def _profile_canvas(n: int) -> _ProfileCanvas:
    with _style():
        return _ProfileCanvas(n)


def profile_chart(figures: SessionFigures, chart_id: str = "profile-chart") -> Markup:
    """Rates per 100 utterances of each label per speaker (bars), beside each speaker's balance."""
    rows = figures.profiles
    speakers = [_plain(speaker_label(s, r)) for s, r in zip(rows["speaker"].astype(str), rows["role"].astype(str))]
    rates = {l: rows[f"{l}_per_100"].astype(float).fillna(0).to_numpy() for l in LABELS}
    balances = rows["mentalizing_balance"].astype(float).to_numpy()
    description = "; ".join(
        f"{s}: " + ", ".join(f"{ABBREVIATIONS[l]} {rates[l][i]:.0f} per 100" for l in LABELS)
        + (", balance n/a" if np.isnan(balances[i]) else f", balance {signed(balances[i])}")
        for i, s in enumerate(speakers)
    )
    with _style():
        return _to_inline_svg(_profile_canvas(len(speakers)).draw(speakers, rates, balances), chart_id, "Profile by speaker",
                              description or "No utterances.")


class _TimelineCanvas(_Canvas):
    """The timeline chart; each page sets the rates, the tagged turns, the threshold and the spikes."""

    def __init__(self) -> None:
        super().__init__(Figure(figsize=(8.6, 2.9)))
        _margins(self.fig, left=0.85, right=0.15, top=0.45, bottom=0.5)
        ax = self.ax = self.fig.subplots()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # turns are whole: no tick at turn 0.5
        self.lines = {
            label: ax.plot(
                [], [], color=COLOURS[label], linestyle=LINESTYLES[label], linewidth=2.0 if label == "certainty_labelling" else 1.6,
                marker=MARKERS[label], markersize=3.6, label=_legend_name(label),
            )[0]
            for label in LABELS
        }
        self.tagged = ax.plot([], [], linestyle="none", marker="|", markersize=7, color="#D55E00", markeredgewidth=1.2,
                              label="CL-tagged turn", clip_on=False)[0]
        self.threshold = ax.axhline(0, color="#D55E00", linewidth=0.7, linestyle=(0, (1, 2)))
        ax.set_ylim(-8, 100)
        ax.set_yticks([0, 25, 50, 75, 100])
        ax.set_xlabel("turn")
        ax.yaxis.grid(True, color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        self.legend = ax.legend(loc="lower left", bbox_to_anchor=(0, 1.06), ncols=4, handlelength=2.4, borderaxespad=0)
        self.spikes: list[Artist] = []

    def fixed_parts(self) -> dict[str, tuple[Artist, object]]:
        # the turn axis changes with the session; the rate axis only with the window in its label
        return {"legend": (self.legend, None), "rate-axis": (self.ax.yaxis, self.ax.yaxis.label.get_text())}

    def draw(self, figures: SessionFigures, x: np.ndarray) -> ET.Element:
        """Set one session's rates, tagged turns, threshold and spikes on the canvas."""
        ax, frame = self.ax, figures.utterances
        for artist in self.spikes:
            artist.remove()
        self.spikes = []
        for spike in figures.spikes:
            left, right = x[spike.start] - 0.5, x[spike.end] + 0.5
            self.spikes.append(ax.axvspan(left, right, color="#D55E00", alpha=0.10, linewidth=0))
            self.spikes.append(ax.annotate(
                f"{spike.number}", (x[spike.peak], 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                textcoords="offset points", ha="center", va="bottom", fontsize=8, fontweight="bold", color="#8a3300",
                bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white", "edgecolor": "#D55E00", "linewidth": 0.9},
            ))
        every = max(1, len(x) // 24)
        for label, line in self.lines.items():
            line.set_data(x, 100.0 * figures.rates[label].to_numpy() if len(frame) else np.zeros(0))
            line.set_markevery(every)
        tagged = x[frame["certainty_labelling"].to_numpy() == 1] if len(frame) else np.zeros(0)
        self.tagged.set_data(tagged, np.full(len(tagged), -4.0))
        known = figures.threshold == figures.threshold
        self.threshold.set_ydata([100 * figures.threshold] * 2 if known else [0, 0])
        self.threshold.set_visible(known)
        ax.set_xlim(x[0] - 0.5, x[-1] + 0.5) if len(x) else ax.set_xlim(-0.5, 0.5)
        ax.set_ylabel(f"% of turns in a\n{figures.window}-turn window")
        return self.svg()


@lru_cache(maxsize=1)
def _timeline_canvas() -> _TimelineCanvas:
    with _style():
        return _TimelineCanvas()


def timeline_chart(figures: SessionFigures, chart_id: str = "timeline-chart") -> Markup:
    """Each label's rolling rate along the session, certainty spikes shaded and numbered."""
    frame = figures.utterances
    spikes = "; ".join(
        f"spike {s.number}: turns {frame['turn'].iat[s.start]} to {frame['turn'].iat[s.end]}, peak {100 * s.peak_rate:.0f}%"
        for s in figures.spikes
    )
    description = (
        f"Rolling {figures.window}-turn rate of each label across {len(frame)} turn{'s' if len(frame) != 1 else ''}. "
        + (f"Certainty labelling spikes: {spikes}." if spikes else "No certainty labelling spikes.")
    )
    with _style():
        return _to_inline_svg(_timeline_canvas().draw(figures, _turn_axis(frame)), chart_id, "Timeline of the session", description)


def _turn_axis(frame) -> np.ndarray:
    """Turn numbers when they are numeric and increasing, else row positions."""
    turns = np.arange(len(frame), dtype=float)
    try:
        values = frame["turn"].astype(float).to_numpy()
    except (TypeError, ValueError):
        return turns
    if len(values) and np.all(np.diff(values) > 0):
        return values
    return turns


def group_chart(group: str, sessions: Sequence[str], figures: Sequence[tuple[RoleFigures | None, RoleFigures | None]],
                chart_id: str) -> Markup:
    """A group's trend across its sessions: the client's label rates, and the therapist's mentalizing per 100.

    Args:
        group: The group name.
        sessions: Short session labels, in order.
        figures: Per session, ``(client, therapist)``.
        chart_id: The SVG id (unique in the page).
    """
    x = np.arange(len(sessions))
    sessions = [_plain(s) for s in sessions]
    with _style():
        rotate = len(sessions) > 6 or max((len(s) for s in sessions), default=0) > 8
        longest = max((len(s) for s in sessions), default=1)
        fig = Figure(figsize=(7.6, 2.4 + (0.06 * min(longest, 24) if rotate else 0.0)))
        _margins(fig, left=0.45, right=0.2, top=0.5, bottom=0.55 + (0.06 * min(longest, 24) if rotate else 0.0), wspace=0.55)
        rates_ax, invite_ax = fig.subplots(1, 2, width_ratios=[1.6, 1.0])
        offsets = np.linspace(-0.14, 0.14, len(LABELS))  # side by side, so tied values never hide each other
        for offset, label in zip(offsets, LABELS):
            values = [c.per_100[label] if c else np.nan for c, _ in figures]
            rates_ax.plot(x + offset, values, color=COLOURS[label], linestyle=LINESTYLES[label], marker=MARKERS[label],
                          markersize=4.5, linewidth=1.6, label=ABBREVIATIONS[label])
        rates_ax.set_title("Client, per 100 utterances")
        rates_ax.set_ylim(bottom=0)
        rates_ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), handlelength=2.2, borderaxespad=0.2)
        values = np.array([t.mentalizing_per_100 if t else np.nan for _, t in figures], dtype=float)
        bars = invite_ax.bar(x, np.nan_to_num(values, nan=0.0), color="#0072B2", width=0.6)
        invite_ax.bar_label(bars, labels=["n/a" if np.isnan(v) else f"{v:.0f}" for v in values], padding=2, fontsize=7.5)
        invite_ax.set_ylim(0, max(10.0, float(np.nanmax(values)) * 1.2 if np.isfinite(values).any() else 10.0))
        invite_ax.set_title("Therapist FN + PT\nper 100 utterances", fontsize=9)
        for ax in (rates_ax, invite_ax):
            ax.set_xticks(x, sessions, rotation=35 if rotate else 0, ha="right" if rotate else "center")
            ax.yaxis.grid(True, color=GRID, linewidth=0.6)
            ax.set_axisbelow(True)
            ax.set_xlim(-0.5, len(sessions) - 0.5)
            ax.set_xlabel("session")
        root = ET.fromstring(_draw_svg(fig))
    description = f"Group {_plain(group)}, {len(sessions)} sessions. " + "; ".join(
        f"{s}: client CL {c.per_100['certainty_labelling']:.0f}, FN {c.per_100['feeling_naming']:.0f}, PT {c.per_100['perspective_taking']:.0f} per 100"
        if c else f"{s}: no client"
        for s, (c, _) in zip(sessions, figures)
    )
    return _to_inline_svg(root, chart_id, f"Trend across sessions: {_plain(group)}", description)
