"""Score a face-crop set (shared layout) without re-detecting faces, as it is or degraded.

Degradations imitate what re-sharing does to a clip, applied to each 224x224 crop before
scoring: ``jpeg40`` (re-encoded at JPEG quality 40), ``half`` (down to half size and back
up) and ``half+jpeg40`` (both, in the order a re-upload does them).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np

from unswap.detectors import Detector
from unswap.facesets import FaceSample, iter_split
from unswap.metrics import expected_calibration_error, summary

DEGRADATIONS = ("none", "jpeg40", "half", "half+jpeg40")


def _check_degradation(name: str) -> None:
    """ValueError naming the choices unless ``name`` is one of ``DEGRADATIONS``."""
    if name not in DEGRADATIONS:
        raise ValueError(f"unknown degradation {name!r}; one of {', '.join(DEGRADATIONS)}")


def degrade_crop(rgb: np.ndarray, name: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB degraded by one of ``DEGRADATIONS``."""
    _check_degradation(name)
    out = rgb
    if "half" in name:
        h, w = out.shape[:2]
        small = cv2.resize(out, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if "jpeg40" in name:
        _, buf = cv2.imencode(".jpg", np.ascontiguousarray(out[:, :, ::-1]), [cv2.IMWRITE_JPEG_QUALITY, 40])
        out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])
    return out


def _batches(samples: Iterator[FaceSample], n: int) -> Iterator[list[FaceSample]]:
    batch: list[FaceSample] = []
    for s in samples:
        batch.append(s)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def split_logits(detector: Detector, faces_dir: Path, split: str, batch_size: int = 64, degrade: str = "none"):
    """(keys, labels with 1 = fake, raw uncalibrated logits) for every sample of ``split``."""
    _check_degradation(degrade)  # before any face is scored
    keys, labels, logits = [], [], []
    for batch in _batches(iter_split(faces_dir, split), batch_size):
        crops = detector.resize_faces([degrade_crop(s.decode(), degrade) for s in batch])
        logits.append(detector.raw(crops, batch_size)[0])
        keys += [s.key for s in batch]
        labels += [1 if s.label == "fake" else 0 for s in batch]
    return keys, np.array(labels), np.concatenate(logits) if logits else np.zeros(0)


def score_split(detector: Detector, faces_dir: Path, split: str, batch_size: int = 64, degrade: str = "none"):
    """(keys, labels with 1 = fake, calibrated p_fake) for every sample of ``split``."""
    keys, labels, logits = split_logits(detector, faces_dir, split, batch_size, degrade)
    return keys, labels, detector.postprocess(logits)


def write_scores(path: Path, keys: list[str], labels: np.ndarray, probs: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", "label", "p_fake"])
        for k, y, p in zip(keys, labels, probs):
            w.writerow([k, "fake" if y else "real", f"{p:.6f}"])


def evaluate(
    detector: Detector, faces_dir: Path, split: str, scores_out: Path | None = None, degrade: str = "none"
) -> dict:
    """Metrics of ``detector`` on ``split`` at its shipped threshold, with expected
    calibration error (15 bins); optionally the scores CSV."""
    keys, labels, probs = score_split(detector, faces_dir, split, degrade=degrade)
    if scores_out is not None:
        write_scores(scores_out, keys, labels, probs)
    if len(set(labels.tolist())) < 2:
        return {"count": len(keys), "note": "one class only: no AUC"}
    c = detector.config
    out = {**summary(labels, probs, c.threshold), "ece_15": expected_calibration_error(labels, probs),
           "degrade": degrade, "fpr": float(np.mean(probs[labels == 0] >= c.threshold)),
           "tpr": float(np.mean(probs[labels == 1] >= c.threshold))}
    if c.prior_fake is not None:
        # p_fake assumes a share of fakes (the prior); the split has its own, so measure
        # calibration with each class weighted to the prior the probability states
        from unswap.calibrate import prior_weights

        out["prior_fake"] = c.prior_fake
        out["ece_15_at_prior"] = expected_calibration_error(labels, probs, weights=prior_weights(labels, c.prior_fake))
    if c.real_below is not None:
        out["real_below"] = c.real_below
        out["fakes_labelled_real"] = float(np.mean(probs[labels == 1] < c.real_below))
    return out


def evaluate_media(
    scanner, labels_csv: Path, scores_out: Path | None = None, by: str | None = None, holdout: bool = False,
    progress=None,
) -> dict:
    """Scan every file a ``labels.csv`` lists, exactly as ``unswap scan`` does, and
    measure the file-level verdicts: AUC of p_fake, and at the shipped verdict the
    three-way answer (reals told real / uncertain / fake, fakes told fake / uncertain /
    real; ``fpr`` and ``tpr`` are the two "fake" shares), overall, per
    ``method`` and per column ``by``. Files with no face and files that fail are counted,
    not scored. ``holdout`` keeps only the FairFace photos training leaves out.
    """
    from unswap.mediasets import MediaSetError, fairface_holdout, read_labels

    files = read_labels(labels_csv)  # never empty: it raises on a file with no rows
    if by is not None and by != "method" and all(by not in f.extra for f in files):
        columns = ", ".join(["path", "label", "method", *files[0].extra])
        raise MediaSetError(f"{labels_csv}: no column {by!r} to report by (its columns: {columns})")
    if by == "method":  # per method is always reported
        by = None
    if holdout:
        files = fairface_holdout(files)[1]
    rows = scan_labelled(scanner, files, by, progress)
    if scores_out is not None:
        with open(scores_out, "w", newline="") as fh:
            w = csv.DictWriter(fh, ["path", "label", "method", "group", "p_fake", "verdict", "error"])
            w.writeheader()
            w.writerows({**r, "p_fake": "" if r["p_fake"] is None else f"{r['p_fake']:.6f}"} for r in rows)
    return measure_rows(rows, str(labels_csv), by)


def scan_labelled(scanner, files, by: str | None = None, progress=None) -> list[dict]:
    """One row per labelled file: its label, method, group (column ``by``), the scan's
    p_fake and verdict, or ``verdict`` "failed" with the error for unusable media."""
    from unswap.media import MediaError

    rows = []
    for n, f in enumerate(files):
        row = {"path": f.rel, "label": f.label, "method": f.method, "group": f.extra.get(by, "") if by else "",
               "p_fake": None, "verdict": None, "error": None}
        try:
            r = scanner.scan(f.path)
            row["verdict"], row["p_fake"] = r.label, r.p_fake
        except MediaError as e:
            row["verdict"], row["error"] = "failed", str(e)
        rows.append(row)
        if progress:
            progress(n + 1, len(files))
    return rows


def measure_rows(rows: list[dict], name: str, by: str | None = None) -> dict:
    """File-level figures of ``scan_labelled`` rows: overall, per method, per group."""
    from unswap.metrics import roc_auc

    def measure(sel: list[dict]) -> dict:
        scored = [r for r in sel if r["p_fake"] is not None]
        reals = [r for r in scored if r["label"] == "real"]
        fakes = [r for r in scored if r["label"] == "fake"]
        out = {"files": len(sel), "reals": len(reals), "fakes": len(fakes),
               "no_face": sum(r["verdict"] == "no-face" for r in sel),
               "failed": sum(r["verdict"] == "failed" for r in sel),
               "too_small": sum(r["verdict"] == "too-small" for r in sel)}
        if reals and fakes:
            out["auc"] = roc_auc([int(r["label"] == "fake") for r in scored], [r["p_fake"] for r in scored])
        # the three-way answer: what the verdict told each class, shares summing to 1
        told = {key: told_shares([r["verdict"] for r in group], words)
                for key, group, words in (("reals_told", reals, ("real", "uncertain", "fake")),
                                          ("fakes_told", fakes, ("fake", "uncertain", "real"))) if group}
        for rate, key in (("fpr", "reals_told"), ("tpr", "fakes_told")):
            if key in told:
                out[rate] = told[key]["fake"]
        return out | told

    result = {"labels": name, "overall": measure(rows), "by_method": {}, "by_group": {}}
    for m in sorted({r["method"] for r in rows}):
        result["by_method"][m] = measure([r for r in rows if r["method"] == m])
    if by:
        for g in sorted({r["group"] for r in rows}):
            result["by_group"][g] = measure([r for r in rows if r["group"] == g])
    return result


def told_shares(verdicts: Sequence[str], words: Sequence[str] = ("real", "uncertain", "fake")) -> dict[str, float]:
    """The share of ``verdicts`` (the words one class of files was told) that is each of
    ``words``, in that order."""
    return {w: sum(v == w for v in verdicts) / len(verdicts) for w in words}


def media_text(detector_id: str, result: dict, by: str | None = None) -> str:
    """The figures of ``evaluate_media`` in lines a person reads."""

    def line(name: str, m: dict) -> str:
        parts = [f"{name}: {m['files']} files ({m['reals']} real, {m['fakes']} fake scored)"]
        if "auc" in m:
            parts.append(f"AUC {m['auc']:.3f}")
        for key, who in (("reals_told", "reals told"), ("fakes_told", "fakes told")):
            if key in m:
                parts.append(f"{who} " + " / ".join(f"{w} {100 * v:.0f}%" for w, v in m[key].items()))
        if m["no_face"] or m["failed"] or m["too_small"]:
            parts.append(f"no face {m['no_face']}, failed {m['failed']}, faces too small to judge {m['too_small']}")
        return "; ".join(parts)

    out = [f"detector {detector_id} on {result['labels']}", "  " + line("all", result["overall"])]
    out += ["  " + line(f"method {k}", v) for k, v in result["by_method"].items()]
    out += ["  " + line(f"{by} {k}", v) for k, v in result["by_group"].items()]
    return "\n".join(out)
