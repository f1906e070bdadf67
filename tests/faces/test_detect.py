import itertools

import numpy as np
from tests.helpers.paths import shared

from unswap.faces.align import crop, crop_box, resize_crop
from unswap.faces.detect import detect_faces
from unswap.faces.track import box_iou
from unswap.facesets import iter_split
from unswap.train.landmarks import crop_landmarks


def test_sample_photo_has_one_face_with_landmarks_inside_its_box(sample_rgb):
    faces = detect_faces(sample_rgb)
    assert len(faces) == 1
    x0, y0, x1, y1 = faces.boxes[0]
    lm = faces.landmarks[0]
    assert (lm[:, 0] > x0).all() and (lm[:, 0] < x1).all() and (lm[:, 1] > y0).all() and (lm[:, 1] < y1).all()
    assert lm[0, 0] < lm[1, 0] and lm[2, 1] < lm[3, 1]  # right eye left of left eye; nose above mouth


def test_every_face_is_found_not_only_the_biggest(sample_rgb):
    import cv2

    small = cv2.resize(sample_rgb, None, fx=0.5, fy=0.5)
    canvas = np.zeros((512, 1024, 3), np.uint8)
    canvas[:, :512] = sample_rgb
    canvas[128:384, 640:896] = small
    faces = detect_faces(canvas)
    assert len(faces) == 2
    assert sorted(faces.boxes[:, 0] > 512) == [False, True]


def test_blank_image_has_no_face():
    assert len(detect_faces(np.full((480, 640, 3), 127, np.uint8))) == 0


def test_boxes_are_in_input_pixels_when_detection_runs_smaller(sample_rgb):
    import cv2

    big = cv2.resize(sample_rgb, None, fx=3, fy=3)  # 1536 px: detection runs at 640
    a, b = detect_faces(sample_rgb), detect_faces(big)
    assert np.allclose(b.boxes[0] / 3, a.boxes[0], atol=6)


def test_scan_crop_geometry_matches_the_training_crops():
    """crop_box on landmarks found in a shared crop reproduces that crop's own frame."""
    ious = []
    for s in itertools.islice(iter_split(shared("faces"), "val"), 60):
        img = s.decode()
        lm = crop_landmarks(img)
        if lm is not None:
            ious.append(box_iou(crop_box(lm), [0, 0, img.shape[1], img.shape[0]])[0, 0])
    assert len(ious) >= 55
    assert np.median(ious) > 0.75


def test_crop_at_frame_edge_is_full_size_and_resize_keeps_content(sample_rgb):
    c = crop(sample_rgb, np.array([-50.0, -50.0, 150.0, 150.0]), 96)
    assert c.shape == (96, 96, 3) and c.dtype == np.uint8
    r = resize_crop(sample_rgb, 256)
    assert r.shape == (256, 256, 3)
    assert abs(float(r.mean()) - float(sample_rgb.mean())) < 2.0


def test_shrinking_crop_matches_area_resize(sample_rgb):
    import cv2

    c = crop(sample_rgb, np.array([0.0, 0.0, 512.0, 512.0]), 64)
    ref = cv2.resize(sample_rgb, (64, 64), interpolation=cv2.INTER_AREA)
    assert np.abs(c.astype(int) - ref.astype(int)).mean() < 3.0


def _canvases(sample_rgb):
    import cv2

    yield np.zeros((288, 512, 3), np.uint8)  # no face
    yield cv2.resize(sample_rgb, (400, 500))
    two = np.zeros((512, 1024, 3), np.uint8)
    two[:, :512] = cv2.resize(sample_rgb, (512, 512))
    two[128:384, 640:896] = cv2.resize(sample_rgb, (256, 256))
    yield two
    yield cv2.flip(cv2.resize(sample_rgb, (333, 517)), 1)  # odd width: row stride is not 4-aligned


def test_ctypes_detection_equals_the_yuface_binding(sample_rgb):
    from unswap.faces.detect import _cnn_function, _detect_cnn

    assert _cnn_function()[0] is not None, "libfacedetection.so or facedetect_cnn not found in the yuface wheel"
    for img in _canvases(sample_rgb):
        bgr = np.ascontiguousarray(img[:, :, ::-1])
        fast, binding = _detect_cnn(bgr), _detect_cnn(bgr, use_ctypes=False)
        assert fast.shape == binding.shape
        np.testing.assert_array_equal(fast, binding)


def test_detection_releases_the_gil_so_decoding_goes_on(sample_rgb):
    """While one detection runs, another Python thread (the decoder) gets to run.

    With a long switch interval the interpreter never takes the GIL from a thread on its
    own during one ~15 ms detection, so any progress of the other thread in that window
    means the call released the GIL; the yuface binding, which holds it, gives none.
    """
    import sys
    import threading

    from unswap.faces.detect import _detect_cnn

    bgr = np.ascontiguousarray(np.tile(sample_rgb[:, :, ::-1], (1, 2, 1))[:288, :512])
    steps, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            steps[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(0.1)
    thread = threading.Thread(target=spin)
    try:
        thread.start()
        progress = []
        for _ in range(3):
            before = steps[0]
            _detect_cnn(bgr)
            progress.append(steps[0] - before)
    finally:
        stop.set()
        sys.setswitchinterval(old)
        thread.join()
    assert min(progress) > 0, progress


def test_wider_file_crops_hold_the_same_faces_on_the_same_centre():
    import cv2

    from tests.helpers.paths import SAMPLE
    from unswap.faces.align import SIDE_PER_SCALE
    from unswap.train.sources import file_crops

    scan = file_crops(SAMPLE, 160)
    wide = file_crops(SAMPLE, 320, side_per_scale=2 * SIDE_PER_SCALE)
    assert len(scan) == len(wide) == 1
    (_, face, lm), (_, ctx, lm_wide) = scan[0], wide[0]
    # the middle half of the wide crop is the scan's crop at the same scale
    middle = ctx[80:240, 80:240]
    assert np.abs(middle.astype(int) - face.astype(int)).mean() < 4
    np.testing.assert_allclose(lm_wide - 80, lm, atol=1.0)
    # and it holds more than the face: the corners differ from the scan crop's edges
    assert np.abs(cv2.resize(ctx, (160, 160)).astype(int) - face.astype(int)).mean() > 10
