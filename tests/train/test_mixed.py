"""Mixed training batches and the outside-world augmentations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from unswap.train.augment import jitter_geometry, outside_world

torch = pytest.importorskip("torch")


def _jpeg(img: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


@pytest.fixture(scope="module")
def sources(sample_face):
    from unswap.train.mixed import Source

    face, lm_crop = sample_face
    rng = np.random.default_rng(0)
    reals = [_jpeg(np.clip(face.astype(int) + rng.integers(-5, 6, face.shape), 0, 255).astype(np.uint8))
             for _ in range(5)]
    fakes = [_jpeg(np.ascontiguousarray(face[:, ::-1])) for _ in range(3)]
    return {"a_real": Source(reals, np.stack([lm_crop] * 5), 0), "a_fake": Source(fakes, None, 1),
            "b_real": Source(reals[:2], np.stack([lm_crop] * 2), 0)}


def test_a_batch_follows_its_recipe(sources):
    from unswap.train.config import MixSlot as Slot
    from unswap.train.mixed import MixedBatches

    slots = [Slot("a_real", 3, False), Slot("a_fake", 3, False), Slot("b_real", 2, False), Slot("a_real", 2, True)]
    data = MixedBatches(sources, slots, 160, 16, seed=0, steps_per_epoch=4)
    x, y, m, valid = data[1]
    assert x.shape == (10, 3, 160, 160) and x.dtype == torch.uint8
    assert y.tolist() == [0] * 3 + [1] * 3 + [0] * 2 + [1] * 2
    # the labelled swaps have no mask and give no region loss; reals have an empty one
    assert valid.tolist() == [1] * 3 + [0] * 3 + [1] * 4
    assert m.shape == (10, 10, 10)
    assert float(m[:8].abs().sum()) == 0.0 and float(m[8:].amax()) > 0.3
    again = data[1]
    assert torch.equal(again[0], x)  # a resumed run sees the same batch
    data.epoch = 1
    assert not torch.equal(data[1][0], x)


def test_smooth_p_smooths_only_the_self_blends(sources):
    from unswap.train.config import MixSlot as Slot
    from unswap.train.mixed import MixedBatches

    slots = [Slot("a_real", 2, False), Slot("a_real", 4, True)]
    plain = MixedBatches(sources, slots, 160, 16, seed=0, steps_per_epoch=2, strength=0.0, geometry_p=0.0)
    smooth = MixedBatches(sources, slots, 160, 16, seed=0, steps_per_epoch=2, strength=0.0, geometry_p=0.0,
                          smooth_p=1.0)
    (xp, _, _, _), (xs, _, _, _) = plain[0], smooth[0]
    assert torch.equal(xp[:2], xs[:2])  # the real faces are untouched
    assert not torch.equal(xp[2:], xs[2:])


def test_every_face_of_a_small_source_is_used_before_one_repeats(sources):
    from unswap.train.config import MixSlot as Slot
    from unswap.train.mixed import MixedBatches

    data = MixedBatches(sources, [Slot("a_real", 2, False)], 160, 16, seed=3, steps_per_epoch=5)
    picks = [data._pick(0, i, j) for i in range(5) for j in range(2)]
    assert sorted(picks[:5]) == list(range(5)) and sorted(picks[5:10]) == list(range(5))


def test_a_recipe_naming_an_unloaded_source_or_blending_swaps_is_refused(sources):
    from unswap.train.config import MixSlot as Slot
    from unswap.train.mixed import MixedBatches

    with pytest.raises(ValueError, match="not loaded: fairface_real"):
        MixedBatches(sources, [Slot("fairface_real", 4, False)], 160, 16, 0, 1)
    with pytest.raises(ValueError, match="self-blend slots need"):
        MixedBatches(sources, [Slot("a_fake", 4, True)], 160, 16, 0, 1)


def test_region_loss_ignores_faces_without_a_mask():
    from unswap.train.loop import region_loss

    logits = torch.zeros(3, 2, 2)
    masks = torch.stack([torch.zeros(2, 2), torch.ones(2, 2), torch.zeros(2, 2)])
    full = region_loss(logits, masks, None)
    only_first = region_loss(logits, masks, torch.tensor([1.0, 0.0, 0.0]))
    assert float(only_first) == pytest.approx(float(np.log(2)), rel=1e-5)
    assert float(full) == pytest.approx(float(np.log(2)), rel=1e-5)
    assert float(region_loss(logits, masks, torch.zeros(3))) == 0.0


def test_outside_world_keeps_shape_and_at_zero_strength_changes_nothing(sample_rgb):
    img = np.ascontiguousarray(sample_rgb[:224, :224])
    rng = np.random.default_rng(0)
    assert np.array_equal(outside_world(img, rng, strength=0.0), img)
    outs = [outside_world(img, np.random.default_rng(s)) for s in range(20)]
    assert all(o.shape == img.shape and o.dtype == np.uint8 for o in outs)
    assert sum(not np.array_equal(o, img) for o in outs) >= 15
    mask = np.zeros(img.shape[:2], np.float32)
    mask[80:140, 80:140] = 1
    warped, wmask = jitter_geometry(img, mask, np.random.default_rng(1))
    assert warped.shape == img.shape and wmask.shape == mask.shape and 0.7 < wmask.sum() / mask.sum() < 1.4
