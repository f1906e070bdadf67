import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite_pytorch")


def test_mask_head_model_gives_the_plain_networks_logit_and_a_stride_16_map():
    from unswap.train.model import MaskedNet, build_model

    torch.manual_seed(0)
    model = build_model({"frozen_blocks": 2, "mask_weight": 0.5}, pretrained=False).eval()
    assert isinstance(model, MaskedNet)
    x = torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        logit, mask = model(x)
        plain = model.backbone(x).view(-1)
    assert logit.shape == (2,) and mask.shape == (2, 10, 10)
    torch.testing.assert_close(logit, plain)
    assert not isinstance(build_model({"frozen_blocks": 2}, pretrained=False), MaskedNet)
