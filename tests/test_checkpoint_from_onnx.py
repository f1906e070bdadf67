"""Rebuilding a trainable network from a shipped detector's ONNX graph (BatchNorm folded in)."""

import importlib.util
import sys

import numpy as np
import pytest

from tests.conftest import REPO, shared

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")
pytest.importorskip("onnx")


def _script():
    spec = importlib.util.spec_from_file_location("checkpoint_from_onnx", REPO / "scripts" / "checkpoint_from_onnx.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["checkpoint_from_onnx"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_rebuilt_v4_computes_the_shipped_graph_and_trains_from_where_it_stopped():
    shared("faces")
    mod = _script()
    from unswap.train.loop import _normalizer
    from unswap.train.model import build_model

    det = REPO / "unswap" / "detectors" / "weights" / "effnetlite0_mixed.v4"
    state = mod.rebuild(det, n_faces=64)
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
