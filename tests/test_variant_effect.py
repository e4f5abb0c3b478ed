"""Score math on hand-made arrays (no model)."""

import math

import numpy as np
import pytest

from splicebert_plugin.scoring import variant_effect as ve


def uniform(width):
    return np.full((width, 4), 0.25)


def test_kl_hand_computed():
    p_wt = np.array([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]])
    p_mt = np.array([[0.5, 0.5 / 3, 0.5 / 3, 0.5 / 3], [0.7, 0.1, 0.1, 0.1]])
    expected0 = 0.5 * math.log(0.5 / 0.25) + 3 * (0.5 / 3) * math.log((0.5 / 3) / 0.25)
    np.testing.assert_allclose(ve.kl_divergence(p_mt, p_wt), [expected0, 0.0], atol=1e-15)


def test_kl_context_hand_computed_small_context():
    # v = 3, context 2: k_1 = (KL[2] + KL[4]) / 2, k_2 = (KL[1] + KL[5]) / 2; KL[3] (the variant) ignored
    kl = np.array([9.0, 0.2, 0.04, 123.0, 0.06, 1e-9, 7.0])
    score, incomplete = ve.kl_context_score(kl, v=3, context=2)
    expected = math.log((0.04 + 0.06) / 2) + math.log(max((0.2 + 1e-9) / 2, 1e-6))
    assert score == pytest.approx(expected, abs=1e-12)
    assert incomplete == 0
    assert ve.max_context_kl(kl, v=3, context=2) == 0.2


def test_floor_applies_after_averaging_the_sides():
    kl = np.array([0.0, 3e-6, 0.0, 0.0])  # v=2, d=1: (3e-6 + 0) / 2 = 1.5e-6 > floor
    score, _ = ve.kl_context_score(kl, v=2, context=1)
    assert score == pytest.approx(math.log(1.5e-6))


def test_identical_wt_and_mt_give_zero_kl_and_the_floor_score():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=510)
    kl = ve.aligned_kl(p, p.copy(), 255)
    assert np.all(kl == 0)
    score, _ = ve.kl_context_score(kl, 255)
    assert score == pytest.approx(100 * math.log(1e-6))  # -1381.55


def test_nucleotide_probabilities_drop_special_tokens_and_use_four_logits():
    logits = np.zeros((1, 4, 10))
    logits[0, 1, 6:10] = [0.0, 1.0, 2.0, 3.0]
    logits[0, 1, 0:6] = 50.0  # other tokens must not enter the softmax
    probs = ve.nucleotide_probabilities(logits)
    assert probs.shape == (1, 2, 4)
    e = np.exp([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(probs[0, 0], e / e.sum())
    np.testing.assert_allclose(probs[0, 1], [0.25] * 4)


def test_deletion_alignment_shifts_downstream_positions():
    rng = np.random.default_rng(1)
    width, v = 12, 5
    p_wt = rng.dirichlet(np.ones(4), size=width)
    # MT of a 2-nt deletion at 5..6: MT[i] = WT[i] for i < 5, MT[i] = WT[i + 2] for i >= 5
    p_mt = np.concatenate([p_wt[:5], p_wt[7:], rng.dirichlet(np.ones(4), size=2)])
    kl = ve.aligned_kl(p_wt, p_mt, v, ref_len=2, alt_len=0)
    assert np.isnan(kl[5]) and np.isnan(kl[6])
    np.testing.assert_allclose(kl[[0, 1, 2, 3, 4, 7, 8, 9, 10, 11]], 0.0, atol=1e-15)


def test_insertion_alignment_and_context_pairs():
    rng = np.random.default_rng(2)
    width, v = 12, 5
    p_wt = rng.dirichlet(np.ones(4), size=width)
    # 3-nt insertion before index 5: MT[i] = WT[i] (i < 5), MT[5..7] new, MT[i + 3] = WT[i]
    p_mt = np.concatenate([p_wt[:5], rng.dirichlet(np.ones(4), size=3), p_wt[5:9]])
    kl = ve.aligned_kl(p_wt, p_mt, v, ref_len=0, alt_len=3)
    np.testing.assert_allclose(kl[:9], 0.0, atol=1e-15)
    assert np.all(np.isnan(kl[9:]))  # their MT partners were cut off at the window end
    up, down = ve.context_pairs(np.arange(12.0), v, ref_len=0, context=2)
    np.testing.assert_array_equal(up, [4.0, 3.0])  # v - d
    np.testing.assert_array_equal(down, [5.0, 6.0])  # v + r - 1 + d with r = 0


def test_partial_context_uses_the_available_side():
    kl = np.array([0.5, 0.1, 0.2])
    score, incomplete = ve.kl_context_score(kl, v=1, context=2)
    assert score == pytest.approx(math.log((0.5 + 0.2) / 2))
    assert incomplete == 1


def test_splice_site_kl():
    kl = np.arange(10.0)
    assert ve.splice_site_kl(kl, donor=2, acceptor=6) == pytest.approx((2 + 3) / 2 + (6 + 7) / 2)
    assert ve.splice_site_kl(kl, donor=None, acceptor=6) == pytest.approx(6.5)
    assert math.isnan(ve.splice_site_kl(kl, donor=9, acceptor=None))  # runs off the window
    assert math.isnan(ve.splice_site_kl(kl, donor=None, acceptor=None))


def test_delta_p():
    probs = np.zeros(10)
    probs[6], probs[8] = 0.7, 0.1
    assert ve.delta_p(probs, ref_id=6, alt_id=8) == pytest.approx(-0.6)
