import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")


@pytest.mark.parametrize("arch, tap", [(None, 10), ("efficientnet-lite1", 14), ("efficientnet-lite2", 14)])
def test_mask_head_model_gives_the_plain_networks_logit_and_a_stride_16_map(arch, tap):
    from unswap.train.model import MaskedNet, build_model

    torch.manual_seed(0)
    cfg = {"frozen_blocks": 2, "mask_weight": 0.5, **({"arch": arch} if arch else {})}
    model = build_model(cfg, pretrained=False).eval()
    assert isinstance(model, MaskedNet) and model.tap_block == tap
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        logit, mask = model(x)
        plain = model.backbone(x).view(-1)
    assert logit.shape == (2,) and mask.shape == (2, 10, 10)
    torch.testing.assert_close(logit, plain)
    assert not isinstance(build_model({"frozen_blocks": 2}, pretrained=False), MaskedNet)


def test_unknown_arch_is_refused():
    from unswap.train.model import build_model

    with pytest.raises(ValueError, match="unknown arch 'resnet50'"):
        build_model({"arch": "resnet50"}, pretrained=False)


def test_real_jitter_changes_the_real_face_of_a_pair_and_only_it():
    import cv2
    import numpy as np

    from unswap.train.data import BlendPairs

    rng = np.random.default_rng(0)
    img = np.clip(rng.normal(140, 10, (224, 224, 3)), 0, 255).astype(np.uint8)
    jpeg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    lms = np.array([[[70, 50], [160, 50], [115, 100], [80, 150], [155, 150]]] * 8, np.float32)
    plain = BlendPairs([jpeg] * 8, lms, 160, seed=0, degrade_args={"downscale_p": 0.0})
    jittered = BlendPairs([jpeg] * 8, lms, 160, seed=0, degrade_args={"downscale_p": 0.0}, real_jitter_p=1.0)
    changed = sum(not torch.equal(plain[i][0][0], jittered[i][0][0]) for i in range(8))
    assert changed >= 4  # one draw in seven leaves the frequencies alone, and JPEG may still differ
    labels = {tuple(jittered[i][1].tolist()) for i in range(8)}
    assert labels == {(0.0, 1.0)}


def test_weight_soup_mean_state_averages_weights_and_keeps_batch_counts():
    from unswap.train.release import weight_soup as soup

    a = {"w": torch.tensor([1.0, 3.0]), "n": torch.tensor(5)}
    b = {"w": torch.tensor([3.0, 7.0]), "n": torch.tensor(9)}
    out = soup.mean_state([a, b])
    assert torch.equal(out["w"], torch.tensor([2.0, 5.0]))
    assert out["n"].item() == 5 and out["n"].dtype == torch.int64
    # weighted (WiSE-FT's interpolation between a start and its fine-tune): 1/4 of a, 3/4 of b
    out = soup.mean_state([a, b], [1.0, 3.0])
    assert torch.allclose(out["w"], torch.tensor([2.5, 6.0])) and out["w"].dtype == torch.float32


def test_ensemble_outputs_the_mean_of_its_members_and_exports_to_one_onnx_graph(tmp_path):
    import numpy as np

    ort = pytest.importorskip("onnxruntime")
    from unswap.train.model import Ensemble, build_model

    cfg = {"frozen_blocks": 2, "mask_weight": 0.3}
    torch.manual_seed(0)
    a = build_model(cfg, pretrained=False).eval()
    torch.manual_seed(1)
    b = build_model(cfg, pretrained=False).eval()
    ens = Ensemble([a, b]).eval()
    x = torch.randn(3, 3, 160, 160)
    with torch.no_grad():
        (la, ma), (lb, mb), (le, me) = a(x), b(x), ens(x)
    assert not torch.allclose(la, lb)
    torch.testing.assert_close(le, (la + lb) / 2)
    torch.testing.assert_close(me, (ma + mb) / 2)
    path = tmp_path / "ens.onnx"
    torch.onnx.export(ens, torch.zeros(1, 3, 160, 160), str(path), input_names=["input"],
                      output_names=["logit", "region"], dynamic_axes={"input": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    logit, region = ort.InferenceSession(str(path)).run(None, {"input": x.numpy()})
    np.testing.assert_allclose(logit, le.numpy(), atol=1e-4)
    np.testing.assert_allclose(region, me.numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="at least two"):
        Ensemble([a])
    with pytest.raises(ValueError, match="region head"):
        Ensemble([a, build_model({"frozen_blocks": 2}, pretrained=False)])


def test_export_refuses_an_ensemble_of_runs_with_different_inputs(tmp_path):
    from unswap.train.export import load_network
    from unswap.train.model import build_model

    cfg = {"frozen_blocks": 2, "mask_weight": 0.3, "input_size": 160, "mean": [0.5] * 3, "std": [0.25] * 3}
    paths = []
    for i, size in enumerate((160, 224)):
        state = {"model": build_model(cfg, pretrained=False).state_dict(), "step": 7,
                 "config": {**cfg, "input_size": size}}
        paths.append(tmp_path / f"run{i}.pt")
        torch.save(state, paths[-1])
    with pytest.raises(ValueError, match="input_size differ"):
        load_network(paths)
    net, first, training = load_network([paths[0], paths[0]])
    assert len(training["members"]) == 2 and training["members"][0]["step"] == 7 and first["input_size"] == 160
