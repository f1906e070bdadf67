import numpy as np

from unswap.train.sbi import blend, degrade, face_mask, self_blend

LANDMARKS = np.array([[70, 50], [160, 50], [115, 100], [80, 150], [155, 150]], np.float32)


def _face(seed=0):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (224, 224, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(np.repeat(img[::8, ::8], 8, 0), 8, 1))


def test_mask_is_soft_face_shaped_and_inside_range():
    m = face_mask((224, 224), LANDMARKS, np.random.default_rng(0))
    assert m.shape == (224, 224) and m.dtype == np.float32
    assert 0.0 <= m.min() and m.max() <= 1.0
    assert m[100, 115] > 0.9  # face centre
    assert m[2, 2] < 0.05 and m[221, 2] < 0.05  # corners stay real


def test_blend_takes_inner_inside_and_outer_outside_the_mask():
    inner, outer = _face(1), _face(2)
    mask = face_mask((224, 224), LANDMARKS, np.random.default_rng(0))
    out = blend(inner, outer, mask)
    assert np.array_equal(out[mask == 0], outer[mask == 0])
    assert np.array_equal(out[mask == 1], inner[mask == 1])
    mid = (mask > 0.3) & (mask < 0.7)
    expect = inner[mid] * mask[mid][:, None] + outer[mid] * (1 - mask[mid][:, None])
    assert np.abs(out[mid].astype(float) - expect).max() <= 0.5 + 1e-6


def test_self_blend_changes_the_face():
    img = _face()
    for seed in range(5):
        fake, mask = self_blend(img, LANDMARKS, np.random.default_rng(seed))
        assert fake.shape == img.shape and fake.dtype == np.uint8
        assert np.abs(fake.astype(int) - img.astype(int))[mask > 0.2].mean() > 1.0


def test_same_seed_same_blend():
    img = _face()
    a, _ = self_blend(img, LANDMARKS, np.random.default_rng(7))
    b, _ = self_blend(img, LANDMARKS, np.random.default_rng(7))
    assert np.array_equal(a, b)


def test_degrade_keeps_shape_and_type():
    img = _face()
    for s in range(10):
        out = degrade(img, np.random.default_rng(s))
        assert out.shape == img.shape and out.dtype == np.uint8


def test_grown_masks_reach_further_out_than_plain_ones():
    plain = [face_mask((224, 224), LANDMARKS, np.random.default_rng(s)).sum() for s in range(40)]
    grown = [face_mask((224, 224), LANDMARKS, np.random.default_rng(s), large_p=1.0).sum() for s in range(40)]
    assert np.mean(grown) > 1.3 * np.mean(plain)


def test_training_pairs_carry_the_blend_mask_as_region_target(tmp_path):
    torch = __import__("pytest").importorskip("torch")
    import cv2

    from unswap.train.data import BlendPairs

    _, jpg = cv2.imencode(".jpg", _face(3))
    pairs = BlendPairs([jpg.tobytes()], LANDMARKS[None], size=160, seed=0, mask_stride=16)
    x, y, m = pairs[0]
    assert x.shape == (2, 3, 160, 160) and x.dtype == torch.uint8
    assert y.tolist() == [0.0, 1.0]
    assert m.shape == (2, 10, 10)
    assert m[0].abs().max() == 0  # the real face: nothing blended
    assert m[1].max() > 0.2 and m[1][0, 0] < 0.05  # the self-blend: face yes, corner no


def _texture(img):
    import cv2

    return cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()


def test_texture_smoothing_flattens_skin_but_keeps_a_strong_edge():
    from unswap.train.sbi import smooth_texture

    rng = np.random.default_rng(0)
    img = np.full((224, 224, 3), 150, np.uint8)
    img[:, 112:] = 40  # an outline
    noisy = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)  # skin texture
    out = smooth_texture(noisy, np.random.default_rng(1))
    assert out[:, :100].std() < 0.6 * noisy[:, :100].std()
    assert out[:, :100].mean() - out[:, 124:].mean() > 100  # the edge survives


def test_smooth_p_makes_the_blended_copy_smoother():
    from unswap.train.sbi import jitter_source

    rng = np.random.default_rng(3)
    img = np.clip(rng.normal(140, 8, (224, 224, 3)), 0, 255).astype(np.uint8)  # textured skin
    plain = np.mean([_texture(jitter_source(img, np.random.default_rng(s))) for s in range(12)])
    smooth = np.mean([_texture(jitter_source(img, np.random.default_rng(s), smooth_p=1.0)) for s in range(12)])
    assert smooth < 0.8 * plain
