import numpy as np
from tests.helpers.paths import shared

from unswap.aggregate import file_scores, file_verdict, label_for, score_tracks
from unswap.types import FaceObservation, Track


def at(threshold: float):
    """The plain threshold rule as a labeller."""
    return lambda p: label_for(p, threshold)


def _track(tid, ps):
    obs = [FaceObservation(i, i / 2, np.zeros(4), np.zeros((5, 2)), 1.0, p) for i, p in enumerate(ps)]
    return Track(tid, obs)


def test_track_score_is_the_median_of_its_faces():
    tracks = [_track(0, [0.2, 0.4]), _track(1, [0.9, 0.7, 0.8])]
    score_tracks(tracks, at(0.5))
    assert [round(t.p_fake, 6) for t in tracks] == [0.3, 0.8]
    assert [t.label for t in tracks] == ["real", "fake"]


def test_a_track_most_of_whose_frames_score_above_the_threshold_is_called_fake():
    # widuwuoiur.mp4's shape: 14 of 20 frames at or above the threshold, 6 deep dips. The
    # mean of the probabilities (0.70) fell under the threshold; the median does not.
    ps = [0.99] * 14 + [0.0] * 6
    tracks = [_track(0, ps)]
    score_tracks(tracks, at(0.98))
    assert np.mean(ps) < 0.98
    assert tracks[0].label == "fake" and tracks[0].p_fake >= 0.98
    # and the mirror case: a real track with a few spikes stays under
    real = [_track(0, [0.02] * 14 + [1.0] * 6)]
    score_tracks(real, at(0.5))
    assert real[0].label == "real"


def test_file_takes_its_most_suspect_track_a_swap_in_the_background_counts():
    tracks = [_track(0, [0.1] * 10), _track(1, [0.9] * 4)]
    score_tracks(tracks, at(0.5))
    v = file_verdict(tracks, at(0.5))
    assert (v.label, v.p_fake) == ("fake", 0.9)


def test_one_frame_blips_do_not_decide_a_video_when_longer_tracks_exist():
    tracks = [_track(0, [0.1] * 10), _track(1, [0.99])]
    score_tracks(tracks, at(0.5))
    assert file_verdict(tracks, at(0.5)).label == "real"
    only_blip = [_track(0, [0.99])]
    score_tracks(only_blip, at(0.5))
    assert file_verdict(only_blip, at(0.5)).label == "fake"


def test_faces_scored_outside_a_scan_are_combined_by_the_scans_rule(detector):
    """Training's monitor and choose-cuts combine faces cut outside a scan (arrays of face
    scores, file index and track id) with ``file_scores``. On real scanned faces it gives
    each clip the scan's p_fake; a file of two clips' tracks and a one-frame track
    holding a third clip's most suspect face, what the scan's rule gives that file."""
    from unswap.scan import ScanConfig, Scanner

    names = ("real_aayrffkzxn.mp4_0_0.mp4", "fake_aaqaifqrwn.mp4_0_0.mp4", "fake_abhggqdift.mp4_0_0.mp4")
    scanner = Scanner(ScanConfig(), detector=detector)
    scans = [scanner.scan(shared("videos", "dfdc_face_tracks", n)) for n in names]
    top = max((o for o in scans[2].tracks[0].observations if o.p_fake is not None), key=lambda o: o.p_fake)
    made = [Track(0, scans[0].tracks[0].observations), Track(1, scans[1].tracks[0].observations), Track(2, [top])]
    label = detector.config.label_for
    score_tracks(made, label)
    assert top.p_fake > max(made[0].p_fake, made[1].p_fake)  # the one-frame track would decide, were it long
    files = [r.tracks for r in scans] + [made, made[2:]]
    faces = [(o.p_fake, i, tr.track_id) for i, tracks in enumerate(files) for tr in tracks
             for o in tr.observations if o.p_fake is not None]
    p, f, t = (np.array(column) for column in zip(*faces))
    got = file_scores(p, len(files) + 1, f, t)  # the last file has no face
    assert got[:-1].tolist() == [r.p_fake for r in scans] + [file_verdict(made, label).p_fake, top.p_fake]
    assert got[3] == max(made[0].p_fake, made[1].p_fake) and np.isnan(got[-1])


def test_no_face_is_explicit():
    v = file_verdict([], at(0.5))
    assert (v.label, v.p_fake) == ("no-face", None)


def test_uncertain_band_around_the_threshold():
    assert label_for(0.52, 0.5, uncertain_margin=0.05) == "uncertain"
    assert label_for(0.56, 0.5, uncertain_margin=0.05) == "fake"
    assert label_for(0.5, 0.5) == "fake" and label_for(0.49, 0.5) == "real"


def test_segments_cover_the_suspect_run_and_ignore_single_frame_blips():
    from unswap.aggregate import fake_segments

    ps = [0.1, 0.9, 0.1, 0.1, 0.8, 0.9, 0.95, 0.7, 0.1, 0.1]  # frames every 0.5 s
    segs = fake_segments(_track(0, ps), threshold=0.5)
    assert [(g.start_s, g.end_s, g.frames) for g in segs] == [(2.0, 3.5, 4)]
    assert segs[0].p_fake_max == 0.95
    assert fake_segments(_track(0, [0.2] * 8), 0.5) == []


def test_a_still_image_gets_a_segment_when_its_face_is_judged_swapped():
    from unswap.aggregate import fake_segments

    assert len(fake_segments(_track(0, [0.9]), 0.5)) == 1
    assert fake_segments(_track(0, [0.3]), 0.5) == []


def test_region_box_maps_map_cells_onto_the_crop_box_in_frame_pixels():
    from unswap.scan import region_box

    region = np.zeros((10, 10), np.float32)
    region[2:5, 3:7] = 0.9
    box = region_box(region, np.array([100.0, 200.0, 300.0, 400.0]))
    np.testing.assert_allclose(box, [160, 240, 240, 300])
    assert region_box(np.full((10, 10), 0.2, np.float32), np.array([0, 0, 10, 10.0])) is None


def test_a_face_judged_real_over_its_track_has_no_segments():
    from unswap.aggregate import score_segments

    tracks = [_track(0, [0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1]), _track(1, [0.9] * 4)]
    score_tracks(tracks, at(0.5))
    score_segments(tracks, 0.5)
    assert tracks[0].label == "real" and tracks[0].segments == []
    assert [(g.start_s, g.end_s) for g in tracks[1].segments] == [(0.0, 1.5)]


def test_a_track_called_uncertain_carries_no_judged_swapped_stretch():
    from unswap.aggregate import score_segments

    # a high stretch, but most frames in the uncertain band: no segment under "uncertain"
    tracks = [_track(0, [0.5] * 6 + [0.99] * 4)]
    score_tracks(tracks, lambda p: "fake" if p >= 0.98 else ("real" if p < 0.05 else "uncertain"))
    score_segments(tracks, 0.98)
    assert tracks[0].label == "uncertain" and tracks[0].segments == []
