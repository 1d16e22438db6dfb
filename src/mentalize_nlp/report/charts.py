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
- the chart gets ``role="img"``, a ``<title>`` and a ``<desc>`` for screen readers.

Colours are the Okabe-Ito palette (safe for the common colour-vision deficiencies), and each
label also has its own line style, marker and hatch, so charts read in greyscale too.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import matplotlib
import numpy as np
from markupsafe import Markup
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

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
    "svg.hashsalt": "mentalize-report",
    "font.family": "sans-serif",
    "font.size": 9.0,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.titlesize": 10.0,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
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
    return f"{value:+.{digits}f}".replace("-", "\u2212")


def speaker_label(speaker: str, role: str) -> str:
    """``T (therapist)``, or just ``therapist`` when the speaker is named by the role."""
    return speaker if speaker.strip().lower() == role.strip().lower() else f"{speaker} ({role})"


def _margins(fig: Figure, *, left: float, right: float, top: float, bottom: float, wspace: float = 0.0) -> None:
    """Fixed margins in inches (constrained layout would cost half the drawing time of a page)."""
    width, height = fig.get_size_inches()
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height, wspace=wspace)


def _legend_name(label: str) -> str:
    return f"{ABBREVIATIONS[label]}  {NAMES[label]}"


# ----------------------------------------------------------------------------- SVG clean-up

_DROP_PROPERTIES = {"font-family", "font"}


def _to_inline_svg(fig: Figure, chart_id: str, title: str, description: str) -> Markup:
    buffer = io.StringIO()
    FigureCanvasSVG(fig)
    with _style():
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    root = ET.fromstring(buffer.getvalue())
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in (f"{{{_SVG}}}metadata", f"{{{_SVG}}}style"):
                parent.remove(child)
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    rename = {old: f"{chart_id}-{old.replace('.', '-')}" for old in ids}

    def relink(value: str) -> str:
        value = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{rename.get(m.group(1), m.group(1))})", value)
        if value.startswith("#") and value[1:] in rename:
            value = "#" + rename[value[1:]]
        return value

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
            elif "#" in value:
                el.set(key, relink(value))
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


def profile_chart(figures: SessionFigures, chart_id: str = "profile-chart") -> Markup:
    """Rates per 100 utterances of each label per speaker (bars), beside each speaker's balance."""
    rows = figures.profiles
    speakers = [speaker_label(s, r) for s, r in zip(rows["speaker"].astype(str), rows["role"].astype(str))]
    n = max(1, len(speakers))
    with _style():
        fig = Figure(figsize=(8.6, 1.35 + 0.72 * n))
        longest = max((len(s) for s in speakers), default=4)
        _margins(fig, left=0.25 + 0.068 * longest, right=0.5, top=0.3, bottom=0.9, wspace=0.12)
        rates_ax, balance_ax = fig.subplots(1, 2, width_ratios=[2.4, 1.0], sharey=True)
        y = np.arange(n)
        height = 0.26
        top = 0.0
        for k, label in enumerate(LABELS):
            values = rows[f"{label}_per_100"].astype(float).fillna(0).to_numpy() if len(rows) else np.zeros(0)
            top = max(top, float(values.max()) if len(values) else 0.0)
            offset = (k - 1) * height
            bars = rates_ax.barh(
                y + offset, values, height=height * 0.92, color=COLOURS[label], hatch=HATCHES[label],
                edgecolor="white", linewidth=0.0, label=_legend_name(label),
            )
            rates_ax.bar_label(bars, labels=[f"{v:.0f}" for v in values], padding=2, fontsize=7.5, color=INK)
        rates_ax.set_yticks(y, speakers)
        rates_ax.invert_yaxis()
        rates_ax.set_xlim(0, max(10.0, top * 1.18))
        rates_ax.set_xlabel("per 100 of the speaker's utterances")
        rates_ax.set_title("How often each label occurs")
        rates_ax.xaxis.grid(True, color=GRID, linewidth=0.6)
        rates_ax.set_axisbelow(True)
        fig.legend(loc="lower center", ncols=3, handlelength=1.6, bbox_to_anchor=(0.5, 0.0))

        values = rows["mentalizing_balance"].astype(float).to_numpy() if len(rows) else np.zeros(0)
        shown = np.nan_to_num(values, nan=0.0)
        colours = ["#009E73" if v >= 0 else "#D55E00" for v in shown]
        hatches = ["" if v >= 0 else "////" for v in shown]
        bars = balance_ax.barh(y, shown, height=0.5, color=colours, hatch=hatches, edgecolor="white", linewidth=0.0)
        balance_ax.bar_label(bars, labels=["n/a" if np.isnan(v) else signed(v) for v in values], padding=3, fontsize=7.5, color=INK)
        balance_ax.axvline(0, color=MUTED, linewidth=0.8)
        balance_ax.set_xlim(-1.35, 1.35)
        balance_ax.set_xticks([-1, 0, 1], ["−1\ncertainty", "0", "+1\nmentalizing"])
        balance_ax.set_title("Mentalizing balance")
        balance_ax.tick_params(axis="y", length=0)
        balance_ax.xaxis.grid(True, color=GRID, linewidth=0.6)
        balance_ax.set_axisbelow(True)
    described = "; ".join(
        f"{s}: " + ", ".join(f"{ABBREVIATIONS[l]} {float(r[f'{l}_per_100']):.0f} per 100" for l in LABELS)
        + (f", balance {signed(float(r['mentalizing_balance']))}" if r["mentalizing_balance"] == r["mentalizing_balance"] else ", balance n/a")
        for s, (_, r) in zip(speakers, rows.iterrows())
    )
    return _to_inline_svg(fig, chart_id, "Profile by speaker", described or "No utterances.")


def timeline_chart(figures: SessionFigures, chart_id: str = "timeline-chart") -> Markup:
    """Each label's rolling rate along the session, certainty spikes shaded and numbered."""
    frame = figures.utterances
    x = _turn_axis(frame)
    with _style():
        fig = Figure(figsize=(8.6, 2.9))
        _margins(fig, left=0.85, right=0.15, top=0.45, bottom=0.5)
        ax = fig.subplots()
        for spike in figures.spikes:
            left, right = x[spike.start] - 0.5, x[spike.end] + 0.5
            ax.axvspan(left, right, color="#D55E00", alpha=0.10, linewidth=0)
            ax.annotate(
                f"{spike.number}", (x[spike.peak], 1.0), xycoords=("data", "axes fraction"), xytext=(0, 2),
                textcoords="offset points", ha="center", va="bottom", fontsize=8, fontweight="bold", color="#8a3300",
                bbox={"boxstyle": "circle,pad=0.25", "facecolor": "white", "edgecolor": "#D55E00", "linewidth": 0.9},
            )
        every = max(1, len(x) // 24)
        for label in LABELS:
            values = 100.0 * figures.rates[label].to_numpy() if len(frame) else np.zeros(0)
            ax.plot(
                x, values, color=COLOURS[label], linestyle=LINESTYLES[label], linewidth=2.0 if label == "certainty_labelling" else 1.6,
                marker=MARKERS[label], markersize=3.6, markevery=every, label=_legend_name(label),
            )
        tagged = x[frame["certainty_labelling"].to_numpy() == 1] if len(frame) else np.zeros(0)
        ax.plot(tagged, np.full(len(tagged), -4.0), linestyle="none", marker="|", markersize=7, color="#D55E00",
                markeredgewidth=1.2, label="CL-tagged turn", clip_on=False)
        if figures.threshold == figures.threshold:
            ax.axhline(100 * figures.threshold, color="#D55E00", linewidth=0.7, linestyle=(0, (1, 2)))
        ax.set_ylim(-8, 100)
        ax.set_yticks([0, 25, 50, 75, 100])
        if len(x):
            ax.set_xlim(x[0] - 0.5, x[-1] + 0.5)
        ax.set_ylabel(f"% of turns in a\n{figures.window}-turn window")
        ax.set_xlabel("turn")
        ax.yaxis.grid(True, color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.06), ncols=4, handlelength=2.4, borderaxespad=0)
    spikes = "; ".join(
        f"spike {s.number}: turns {frame['turn'].iat[s.start]} to {frame['turn'].iat[s.end]}, peak {100 * s.peak_rate:.0f}%"
        for s in figures.spikes
    )
    description = (
        f"Rolling {figures.window}-turn rate of each label across {len(frame)} turns. "
        + (f"Certainty labelling spikes: {spikes}." if spikes else "No certainty labelling spikes.")
    )
    return _to_inline_svg(fig, chart_id, "Timeline of the session", description)


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


def group_chart(group: str, sessions: Sequence[str], figures: Sequence[tuple[RoleFigures | None, RoleFigures | None, float, int]],
                chart_id: str) -> Markup:
    """A group's trend across its sessions: the client's label rates, and the therapist's mentalizing per 100.

    Args:
        group: The group name.
        sessions: Short session labels, in order.
        figures: Per session, ``(client, therapist, not-knowing rate, certainty statements answered)``.
        chart_id: The SVG id (unique in the page).
    """
    x = np.arange(len(sessions))
    with _style():
        rotate = len(sessions) > 6 or max((len(s) for s in sessions), default=0) > 8
        longest = max((len(s) for s in sessions), default=1)
        fig = Figure(figsize=(7.6, 2.4 + (0.06 * min(longest, 24) if rotate else 0.0)))
        _margins(fig, left=0.45, right=0.2, top=0.5, bottom=0.55 + (0.06 * min(longest, 24) if rotate else 0.0), wspace=0.55)
        rates_ax, invite_ax = fig.subplots(1, 2, width_ratios=[1.6, 1.0])
        offsets = np.linspace(-0.14, 0.14, len(LABELS))  # side by side, so tied values never hide each other
        for offset, label in zip(offsets, LABELS):
            values = [c.per_100[label] if c else np.nan for c, _, _, _ in figures]
            rates_ax.plot(x + offset, values, color=COLOURS[label], linestyle=LINESTYLES[label], marker=MARKERS[label],
                          markersize=4.5, linewidth=1.6, label=ABBREVIATIONS[label])
        rates_ax.set_title("Client, per 100 utterances")
        rates_ax.set_ylim(bottom=0)
        rates_ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), handlelength=2.2, borderaxespad=0.2)
        values = np.array([t.mentalizing_per_100 if t else np.nan for _, t, _, _ in figures], dtype=float)
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
    description = f"Group {group}, {len(sessions)} sessions. " + "; ".join(
        f"{s}: client CL {c.per_100['certainty_labelling']:.0f}, FN {c.per_100['feeling_naming']:.0f}, PT {c.per_100['perspective_taking']:.0f} per 100"
        if c else f"{s}: no client"
        for s, (c, _, _, _) in zip(sessions, figures)
    )
    return _to_inline_svg(fig, chart_id, f"Trend across sessions: {group}", description)
