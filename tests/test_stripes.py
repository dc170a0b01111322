"""Stripe extraction on a constructed score map whose boxes are known exactly: solid, dashed and short stripes."""

import numpy as np
import pytest

from rfi_models.detection.stripes import GAP_COLUMNS, MIN_WIDTH, StripeFinder, find_stripes

THRESHOLD = 1.0
DASH = 30  # columns of a dash


def dashes(scores, rows, first_col, count, gap, value):
    """`count` dashes of DASH columns from `first_col`, `gap` unflagged columns apart; their column span."""
    col = first_col
    for _ in range(count):
        scores[rows, col : col + DASH] = value
        col += DASH + gap
    return first_col, col - gap - 1


@pytest.fixture(scope="module")
def constructed():
    """A score map [60, 400] with known stripes, and the boxes (row0, row1, col0, col1) find_stripes must return."""
    scores = np.zeros((60, 400), dtype=np.float32)
    scores[5:10, 10:110] = 2.0  # solid, 5 x 100
    scores[7, 60] = 5.0  # its peak
    dashed = dashes(scores, slice(20, 24), 50, 3, GAP_COLUMNS, 1.5)  # gaps of exactly GAP_COLUMNS: one stripe
    split = [dashes(scores, slice(35, 38), col, 1, 0, 1.25) for col in (10, 10 + DASH + GAP_COLUMNS + 1)]
    scores[45:48, 300 : 300 + MIN_WIDTH - 1] = 3.0  # one column too narrow: dropped
    scores[52:54, 300 : 300 + MIN_WIDTH] = 1.1  # just wide enough: kept
    scores[30, 200:300] = 0.99  # under the threshold: nothing
    assert dashed == (50, 50 + 3 * DASH + 2 * GAP_COLUMNS - 1) and split[1][0] - split[0][1] - 1 == GAP_COLUMNS + 1
    boxes = {(5, 9, 10, 109), (20, 23, *dashed), *((35, 37, *span) for span in split)}
    boxes.add((52, 53, 300, 300 + MIN_WIDTH - 1))
    return scores, boxes


def test_known_boxes_with_exact_rows_and_columns(constructed):
    scores, boxes = constructed
    stripes = find_stripes(scores, THRESHOLD)
    assert {(s["row0"], s["row1"], s["col0"], s["col1"]) for s in stripes} == boxes
    assert len(stripes) == len(boxes)


def test_a_dashed_stripe_is_one_box_across_gaps_of_gap_columns_and_split_by_wider_ones(constructed):
    scores, _ = constructed
    by_rows = {(s["row0"], s["row1"]): s for s in find_stripes(scores, THRESHOLD)}
    dashed = by_rows[(20, 23)]
    assert (dashed["col0"], dashed["col1"]) == (50, 50 + 3 * DASH + 2 * GAP_COLUMNS - 1)
    # the mean runs over the box's pixels, the closed gaps (score 0) included
    width = dashed["col1"] - dashed["col0"] + 1
    assert dashed["score"] == pytest.approx(3 * DASH * 1.5 / width, abs=1e-6) and dashed["peak"] == 1.5
    split = sorted(s["col0"] for s in find_stripes(scores, THRESHOLD) if s["row0"] == 35)
    assert split == [10, 10 + DASH + GAP_COLUMNS + 1]  # a gap of GAP_COLUMNS + 1 is not closed


def test_peak_and_mean_score_and_strongest_first(constructed):
    scores, _ = constructed
    stripes = find_stripes(scores, THRESHOLD)
    solid = next(s for s in stripes if s["row0"] == 5)
    assert solid["peak"] == 5.0 and solid["score"] == pytest.approx((2.0 * 500 + 3.0) / 500, abs=1e-6)
    assert [s["score"] for s in stripes] == sorted((s["score"] for s in stripes), reverse=True)
    assert stripes[0] is solid


def test_short_segments_are_dropped_and_min_width_is_the_limit(constructed):
    scores, _ = constructed
    rows = {s["row0"] for s in find_stripes(scores, THRESHOLD)}
    assert 45 not in rows and 52 in rows
    narrow = find_stripes(scores, THRESHOLD)
    assert all(s["col1"] - s["col0"] + 1 >= MIN_WIDTH for s in narrow)


@pytest.mark.parametrize("rows_per_block", [1, 7, 22, 60])
def test_blocks_of_rows_give_the_same_stripes_as_the_whole_map(constructed, rows_per_block):
    scores, _ = constructed
    finder = StripeFinder()
    for top in range(0, len(scores), rows_per_block):
        finder.add_scores(top, scores[top : top + rows_per_block], THRESHOLD)
    assert finder.stripes() == find_stripes(scores, THRESHOLD)


def test_invalid_pixels_are_not_flagged(constructed):
    scores, _ = constructed
    valid = np.ones(scores.shape, dtype=bool)
    valid[:, :100] = False  # no data on the left: what is left of the solid and split stripes is too narrow
    found = {s["row0"]: s for s in find_stripes(scores, THRESHOLD, valid)}
    assert set(found) == {20, 52} and (found[20]["col0"], found[20]["col1"]) == (50 + DASH + GAP_COLUMNS, 203)
