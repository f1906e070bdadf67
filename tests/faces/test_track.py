import numpy as np

from unswap.faces.track import FaceTracker
from unswap.types import Faces


def _faces(*boxes):
    b = np.array(boxes, np.float32)
    return Faces(b, np.zeros((len(b), 5, 2)), np.ones(len(b)))


def test_two_people_keep_their_ids_as_they_move():
    tr = FaceTracker()
    ids0 = tr.update(0, 0.0, _faces([100, 100, 200, 220], [600, 100, 700, 220]))
    # half a second later both moved 40 px right; the detector lists them in the other order
    ids1 = tr.update(15, 0.5, _faces([640, 105, 740, 225], [140, 100, 240, 220]))
    assert ids0 == [0, 1]
    assert ids1 == [1, 0]
    assert [len(t.observations) for t in tr.tracks] == [2, 2]
    assert tr.tracks[0].start_s == 0.0 and tr.tracks[0].end_s == 0.5


def test_long_gap_starts_a_new_track():
    tr = FaceTracker(max_gap_s=2.0)
    tr.update(0, 0.0, _faces([100, 100, 200, 220]))
    ids = tr.update(150, 5.0, _faces([100, 100, 200, 220]))
    assert ids == [1]


def test_far_jump_is_a_different_face():
    tr = FaceTracker()
    tr.update(0, 0.0, _faces([100, 100, 200, 220]))
    assert tr.update(1, 0.04, _faces([900, 500, 1000, 620])) == [1]


def test_frames_without_faces_are_fine():
    tr = FaceTracker()
    assert tr.update(0, 0.0, Faces.empty()) == []
    assert tr.tracks == []


def test_fast_face_across_sampled_frames_stays_one_track():
    # a 50 px face moving 45 px every half second (seen in a shared DFDC face track)
    tr = FaceTracker()
    for k in range(6):
        x = 250 - 45 * k
        tr.update(15 * k, 0.5 * k, _faces([x, 10, x + 50, 70]))
    assert len(tr.tracks) == 1


def test_the_same_jump_within_one_frame_is_a_new_face():
    tr = FaceTracker()
    tr.update(0, 0.0, _faces([250, 10, 300, 70]))
    assert tr.update(1, 1 / 30, _faces([160, 10, 210, 70])) == [1]


def test_box_iou_of_known_overlaps():
    from unswap.faces.track import box_iou

    m = box_iou([[0, 0, 10, 10], [20, 20, 30, 30]], [[5, 0, 15, 10], [0, 0, 10, 10]])
    assert np.allclose(m, [[50 / 150, 1.0], [0.0, 0.0]])
