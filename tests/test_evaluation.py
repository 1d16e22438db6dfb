import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score

from mentalize_nlp.evaluation import agreement, format_agreement
from mentalize_nlp.labels import LABELS


def frames(seed=0, n=300):
    rng = np.random.default_rng(seed)
    a = pd.DataFrame({l: (rng.uniform(size=n) < 0.2).astype(int) for l in LABELS})
    b = a.copy()
    flip = rng.uniform(size=(n, 3)) < 0.1
    b[list(LABELS)] = np.where(flip, 1 - a.to_numpy(), a.to_numpy())
    sessions = pd.Series([f"s{i // 30}" for i in range(n)])
    return a, b, sessions


def test_figures_match_the_reference_implementations():
    a, b, sessions = frames()
    table = agreement(a, b, sessions).set_index("label")
    for label in LABELS:
        assert table.at[label, "f1"] == pytest.approx(f1_score(a[label], b[label]))
        assert table.at[label, "kappa"] == pytest.approx(cohen_kappa_score(a[label], b[label]))
        ref = krippendorff.alpha(reliability_data=np.vstack([a[label], b[label]]), level_of_measurement="nominal")
        assert table.at[label, "alpha"] == pytest.approx(ref)
        assert table.at[label, "f1_low"] <= table.at[label, "f1"] <= table.at[label, "f1_high"]


def test_a_label_nobody_gives_is_not_available_rather_than_zero():
    a, b, sessions = frames()
    a["perspective_taking"] = 0
    b["perspective_taking"] = 0
    table = agreement(a, b, sessions).set_index("label")
    assert np.isnan(table.at["perspective_taking", "f1"]) and np.isnan(table.at["perspective_taking", "kappa"])
    assert "n/a" in format_agreement(agreement(a, b, sessions))
    assert not np.isnan(table.at["overall", "f1"])  # the mean is over the labels that are defined
