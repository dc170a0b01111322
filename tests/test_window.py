"""The movable window of the models' input size over an image of any size."""

import numpy as np

from rfi_models.view.window import best_window, crop, outline, place_window


def test_the_best_window_is_where_the_mean_score_is_highest():
    scores = np.zeros((400, 700), np.float32)
    scores[300:320, 450:650] = 5.0  # a stripe near the bottom right
    scores[10, 10] = np.nan
    window = best_window(scores, (340, 500))
    assert (window.top, window.left) == (30, 175)  # every window from (0, 150) to (60, 200) holds it: the middle one
    assert window.top <= 300 and window.top + 340 >= 320 and window.left <= 450 and window.left + 500 >= 650


def test_a_window_is_kept_inside_the_image():
    window = place_window((391, 671), (340, 500), top=999, left=-5)
    assert (window.top, window.left) == (51, 0) and window.limits == (51, 171) and not window.padded
    assert window.describe() == "window rows 51-390, columns 0-499 of the 391 x 671 image"


def test_a_smaller_image_is_mirror_padded_and_says_so():
    image = np.arange(2 * 200 * 300, dtype=np.float32).reshape(2, 200, 300)
    window = place_window((200, 300), (340, 500), 10, 10)
    patch = crop(image, window)
    assert patch.shape == (2, 340, 500) and (window.top, window.left) == (0, 0) and window.padded
    assert np.array_equal(patch[:, :200, :300], image)
    assert np.array_equal(patch[:, 200, :300], image[:, 198])  # mirrored about the last row
    assert np.array_equal(patch[:, :200, 300], image[:, :, 298])
    assert "padded by mirroring" in window.describe()


def test_crop_is_the_window_of_a_larger_image():
    image = np.random.default_rng(0).random((2, 391, 671)).astype(np.float32)
    window = place_window((391, 671), (340, 500), 20, 100)
    assert np.array_equal(crop(image, window), image[:, 20:360, 100:600])


def test_the_outline_is_drawn_on_the_window_border_only():
    picture = np.zeros((391, 671, 3), np.uint8)
    drawn = outline(picture, place_window((391, 671), (340, 500), 20, 100))
    assert (drawn[20, 100:600] == (255, 0, 255)).all() and (drawn[359, 100:600] == (255, 0, 255)).all()
    assert (drawn[20:360, 100] == (255, 0, 255)).all() and (drawn[20:360, 599] == (255, 0, 255)).all()
    assert not drawn[100:300, 110:590].any() and not drawn[:18].any() and not picture.any()
