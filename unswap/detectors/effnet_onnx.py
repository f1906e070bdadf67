"""A detector whose network is an ONNX graph, run by ONNX Runtime: every shipped one."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from unswap.detectors.base import Detector, DetectorConfig


class OnnxDetector(Detector):
    """A classifier exported to ONNX with a ``config.json`` beside it: first output the
    logit (N,) or (N, 1); an optional second output, region-map logits (N, M, M)."""

    def __init__(self, folder: Path, threads: int | None = None):
        import onnxruntime as ort

        self.folder = Path(folder)
        self.config = DetectorConfig.from_file(self.folder / "config.json")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        # Idle pool threads sleep rather than spin: during a scan the cores are busy
        # decoding, and spinning only takes time from it (scoring is no slower for it).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in ort.get_available_providers()]
        self.session = ort.InferenceSession(str(self.folder / self.config.model_file), opts, providers=providers)
        self._input = self.session.get_inputs()[0].name
        self._outputs = [o.name for o in self.session.get_outputs()]

    def forward(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(self._outputs[:1], {self._input: batch})[0].reshape(-1)

    def forward_regions(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if len(self._outputs) < 2:
            return self.forward(batch), None
        logit, regions = self.session.run(self._outputs[:2], {self._input: batch})
        return logit.reshape(-1), regions
