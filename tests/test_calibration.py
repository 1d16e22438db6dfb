import numpy as np
import pytest

from mentalize_nlp.calibration import (
    adjusted_count,
    apply_isotonic,
    brier,
    choose_threshold,
    count_interval,
    error_rates,
    expected_count,
    fit_isotonic,
    reliability,
)


def test_isotonic_map_is_monotone_and_matches_observed_frequencies():
    rng = np.random.default_rng(0)
    scores = rng.uniform(size=4000)
    truth = (rng.uniform(size=4000) < scores**2).astype(int)  # raw scores overstate the chance
    points = fit_isotonic(scores, truth)
    calibrated = apply_isotonic(scores, points)
    assert np.all(np.diff(points["y"]) >= 0)
    for bin_ in reliability(calibrated, truth):
        if bin_["n"] >= 200:
            assert abs(bin_["predicted"] - bin_["observed"]) < 0.06
    assert brier(calibrated, truth) < brier(scores, truth)


def test_without_a_map_scores_pass_through():
    assert apply_isotonic(np.array([0.2, 0.9]), None).tolist() == [0.2, 0.9]


def test_threshold_keeps_the_number_of_tags_near_the_truth():
    rng = np.random.default_rng(1)
    truth = (rng.uniform(size=2000) < 0.1).astype(int)
    proba = np.clip(truth * 0.5 + rng.uniform(size=2000) * 0.5, 0, 1)
    t = choose_threshold(proba, truth)
    assert abs(int((proba >= t).sum()) - int(truth.sum())) <= 0.15 * truth.sum()


def test_threshold_over_several_sources_serves_each_not_the_largest():
    # A large source whose scores run high (long forum answers) and a small one whose true
    # cases score lower (one-line chat turns): pooled, the large source sets a threshold
    # that misses every true case of the small one.
    rng = np.random.default_rng(2)
    big_truth = (rng.uniform(size=3000) < 0.2).astype(int)
    big = np.where(big_truth == 1, rng.uniform(0.85, 1.0, 3000), rng.uniform(0.0, 0.9, 3000))
    small_truth = (rng.uniform(size=300) < 0.2).astype(int)
    small = np.where(small_truth == 1, rng.uniform(0.6, 0.8, 300), rng.uniform(0.0, 0.5, 300))
    proba, truth = np.r_[big, small], np.r_[big_truth, small_truth]
    groups = np.r_[np.full(3000, "forum"), np.full(300, "chat")]

    def f1(t, rows):
        pred, gold = proba[rows] >= t, truth[rows] == 1
        return 2 * (pred & gold).sum() / (pred.sum() + gold.sum())

    chat = groups == "chat"
    pooled, balanced = choose_threshold(proba, truth), choose_threshold(proba, truth, groups=groups)
    assert f1(pooled, chat) == 0.0
    assert f1(balanced, chat) > 0.5 and f1(balanced, ~chat) > 0.5
    # one source, or a source with no true cases, falls back to the pooled choice
    assert choose_threshold(big, big_truth, groups=np.full(3000, "forum")) == choose_threshold(big, big_truth)


def test_adjusted_count_undoes_known_error_rates():
    # 100 utterances, 20 truly positive; the tagger finds 15 of them and fires on 8 of the other 80.
    rates = error_rates(np.r_[np.ones(15), np.zeros(5), np.ones(8), np.zeros(72)], np.r_[np.ones(20), np.zeros(80)])
    assert rates == {"tpr": 0.75, "fpr": 0.1, "n": 100}
    assert adjusted_count(np.array([23]), np.array([100]), rates["tpr"], rates["fpr"])[0] == pytest.approx(20.0)
    assert adjusted_count(np.array([0]), np.array([100]), 0.75, 0.1)[0] == 0.0  # never below zero


def test_interval_holds_the_adjusted_count_and_narrows_with_more_utterances():
    low, high = count_interval(np.array([10, 100]), np.array([50, 500]), 0.8, 0.02)
    adjusted = adjusted_count(np.array([10, 100]), np.array([50, 500]), 0.8, 0.02)
    assert np.all(low <= adjusted) and np.all(adjusted <= high)
    assert (high[1] - low[1]) / 500 < (high[0] - low[0]) / 50


def test_expected_count_is_the_sum_of_probabilities_with_an_interval():
    mean, low, high = expected_count(np.array([0.5] * 100))
    assert mean == 50.0
    assert low < 50 < high and high - low == pytest.approx(2 * 1.645 * 5, rel=0.01)
    assert expected_count(np.array([0.0, 0.0])) == (0.0, 0.0, 0.0)
