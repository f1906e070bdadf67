"""Rebuilding a trainable network from a shipped detector's ONNX graph (BatchNorm folded in)."""

import numpy as np
import pytest

from tests.helpers.paths import shared

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("onnx")


@pytest.mark.slow
def test_a_rebuilt_detector_computes_the_shipped_graph_and_trains_from_where_it_stopped():
    shared("faces")
    from unswap.detectors import DEFAULT_DETECTOR
    from unswap.detectors.registry import WEIGHTS
    from unswap.train.loop import _normalizer
    from unswap.train.model import build_model
    from unswap.train.release import checkpoint_from_onnx as mod

    # 512 faces, the command's default: on 64 to 256 of them a few of v6's channels vary too
    # little for their BatchNorm to be split back exactly (logits 3e-3 to 7e-3 off; 1e-5 at 512)
    state = mod.rebuild(WEIGHTS / DEFAULT_DETECTOR)
    assert state["logit_gap"] < 1e-3  # eval mode: the ONNX graph's logits
    model = build_model(state["config"], pretrained=False)
    model.load_state_dict(state["model"])
    normalize = _normalizer(state["config"], torch.device("cpu"))
    x = normalize(torch.from_numpy(mod.sample_faces(96, state["config"]["input_size"])[32:]))
    with torch.no_grad():
        eval_logit = model.eval()(x)[0].numpy()
        for m in model.modules():  # BatchNorm on batch statistics; dropout stays off
            if isinstance(m, torch.nn.BatchNorm2d):
                m.train()
        train_logit = model(x)[0].numpy()
    # BatchNorm's running statistics were measured on real faces, so a batch of other real
    # faces normalises about the same way: the network is not reset by going to train mode
    assert np.corrcoef(eval_logit, train_logit)[0, 1] > 0.9
    assert np.abs(eval_logit - train_logit).mean() < 0.5 * eval_logit.std()
