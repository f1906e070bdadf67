"""The training loop: self-blended pairs, AdamW, cosine schedule, resumable.

Everything a run writes goes to its output folder: ``log.jsonl`` (one JSON object per
logged step and per epoch), ``last.pt`` (resume point), ``best.pt`` (best val AUC).
Validation uses the ``val`` split only.
"""

from __future__ import annotations

import json
import math
import time
import tomllib
from pathlib import Path

import numpy as np
import torch

from unswap.metrics import roc_auc
from unswap.train.data import BlendPairs, load_split_inputs, load_train_faces
from unswap.train.model import MASK_STRIDE, build_model, freeze_norm_stats


def load_config(path: Path) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def _normalizer(cfg: dict, device: torch.device):
    mean = torch.tensor(cfg["mean"], device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(cfg["std"], device=device).view(1, 3, 1, 1) * 255
    return lambda x: (x.float() - mean) / std


@torch.no_grad()
def predict_logits(model, inputs: np.ndarray, normalize, device, batch: int = 128) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(inputs), batch):
        x = torch.from_numpy(inputs[i : i + batch]).to(device)
        y = model(normalize(x).contiguous(memory_format=torch.channels_last))
        y = y[0] if isinstance(y, tuple) else y
        out.append(y.float().view(-1).cpu().numpy())
    return np.concatenate(out)


def region_loss(mask_logits: torch.Tensor, masks: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Per-cell BCE of the region map, averaged over the faces that have a mask
    (``valid`` 1; a labelled swap has none), or over all faces when ``valid`` is None."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits(mask_logits, masks, reduction="none")
    if valid is None:
        return bce.mean()
    return (bce.mean(dim=(1, 2)) * valid).sum() / valid.sum().clamp(min=1.0)


def train(config_path: Path, out_dir: Path, faces_dir: Path, device: str | None = None,
          data_dir: Path | None = None) -> Path:
    """Train (or resume) a run; returns the path of the best checkpoint.

    A config with ``[[mix]]`` tables trains on mixed batches (``unswap.train.mixed``):
    DFDC reals and swaps, and the real faces of ``data_dir/reals``. With ``monitor =
    true`` each epoch also scores the cross-domain sets of ``data_dir``
    (``unswap.train.monitor``) and logs their figures; ``best.pt`` stays the best on val.
    """
    cfg = load_config(config_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(cfg["seed"])
    if dev.type == "cpu":
        torch.set_num_threads(cfg.get("threads", 2))
    log = open(out_dir / "log.jsonl", "a")

    def emit(**rec):
        rec["time"] = time.time()
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)

    size = cfg["input_size"]
    mask_weight = cfg.get("mask_weight", 0.0)
    mixed = bool(cfg.get("mix"))
    if mixed:
        from unswap.train.mixed import MixedBatches, load_sources, parse_mix

        sources = load_sources(faces_dir, None if data_dir is None else Path(data_dir) / "reals", out_dir,
                               cfg.get("fairface_holdout_per_group", 200))
        emit(event="sources", **{k: len(v.jpegs) for k, v in sources.items()})
        steps_per_epoch = cfg["steps_per_epoch"]
        data = MixedBatches(sources, parse_mix(cfg), size, MASK_STRIDE if mask_weight > 0 else 0, cfg["seed"],
                            steps_per_epoch, cfg.get("large_mask_p", 0.0), cfg.get("augment_strength", 1.0),
                            cfg.get("geometry_p", 0.5), cfg.get("smooth_p", 0.0))
    else:
        jpegs, lms = load_train_faces(faces_dir, out_dir / "landmarks_train.npz")
        degrade_args = {k: cfg[k] for k in ("downscale_p", "downscale") if k in cfg}
        data = BlendPairs(jpegs, lms, size, cfg["seed"], degrade_args,
                          mask_stride=MASK_STRIDE if mask_weight > 0 else 0, large_mask_p=cfg.get("large_mask_p", 0.0),
                          smooth_p=cfg.get("smooth_p", 0.0), real_jitter_p=cfg.get("real_jitter_p", 0.0))
        steps_per_epoch = len(data) // cfg["pairs_per_batch"]
    _, val_labels, val_x = load_split_inputs(faces_dir, "val", size)
    monitor_sets = None
    if cfg.get("monitor") and data_dir is not None:
        from unswap.train import monitor

        monitor_sets = monitor.build(Path(data_dir), out_dir / f"monitor_{size}.npz", size)
    normalize = _normalizer(cfg, dev)

    # channels-last runs the depthwise convolutions about 30% faster on the CPU
    model = build_model(cfg).to(dev, memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    total = steps_per_epoch * cfg["epochs"]

    def lr_at(step: int) -> float:
        if step < cfg["warmup_steps"]:
            return (step + 1) / cfg["warmup_steps"]
        return 0.5 * (1 + math.cos(math.pi * (step - cfg["warmup_steps"]) / max(1, total - cfg["warmup_steps"])))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    step, best_auc = 0, -1.0
    last = out_dir / "last.pt"
    if last.is_file():
        state = torch.load(last, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, best_auc = state["step"], state["best_auc"]
        emit(event="resume", step=step)
    elif cfg.get("init_from"):
        # a fine-tune: start from another run's weights, with a fresh optimiser and schedule
        model.load_state_dict(torch.load(cfg["init_from"], map_location=dev, weights_only=False)["model"])
        emit(event="init", init_from=cfg["init_from"])

    def save(path: Path) -> None:
        torch.save(
            {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
             "step": step, "best_auc": best_auc, "config": cfg}, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)

    while step < total:
        epoch = step // steps_per_epoch
        data.epoch = epoch
        workers = cfg.get("workers", 1)
        if mixed:
            loader = torch.utils.data.DataLoader(
                data, batch_size=None, sampler=range(step - epoch * steps_per_epoch, steps_per_epoch),
                num_workers=workers, prefetch_factor=4 if workers else None)
        else:
            per_batch = cfg["pairs_per_batch"]
            order = np.random.default_rng([cfg["seed"], epoch]).permutation(len(data))
            batches = [order[i * per_batch : (i + 1) * per_batch].tolist() for i in range(steps_per_epoch)]
            batches = batches[step - epoch * steps_per_epoch :]
            loader = torch.utils.data.DataLoader(
                data, batch_sampler=batches, num_workers=workers,
                persistent_workers=False, prefetch_factor=4 if workers else None)
        model.train()
        freeze_norm_stats(model, cfg["frozen_blocks"])
        t0, seen, loss_sum = time.time(), 0, 0.0
        for item in loader:
            if mixed:
                x, y, m, valid = (t.to(dev) for t in item)
            else:
                x, y, m = item
                x, y, m, valid = x.to(dev).flatten(0, 1), y.to(dev).flatten(), m.to(dev).flatten(0, 1), None
            x = normalize(x).contiguous(memory_format=torch.channels_last)
            out = model(x)
            if mask_weight > 0:
                logits, mask_logits = out
                mask_loss = region_loss(mask_logits, m, valid)
            else:
                logits, mask_loss = out.view(-1), 0.0
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y) + mask_weight * mask_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += len(y)
            loss_sum += loss.item()
            if step % 20 == 0:
                emit(event="step", step=step, total=total, epoch=epoch, loss=loss_sum / 20,
                     lr=sched.get_last_lr()[0], img_per_s=seen / (time.time() - t0))
                loss_sum = 0.0
            if step % cfg["checkpoint_every"] == 0:
                save(last)
            if step % steps_per_epoch == 0:
                break
        logits = predict_logits(model, val_x, normalize, dev)
        auc = roc_auc(val_labels, logits)
        if auc > best_auc:
            best_auc = auc
            save(out_dir / "best.pt")
            np.save(out_dir / "val_logits_best.npy", logits)
        save(out_dir / f"epoch{epoch:02d}.pt")  # every epoch kept: selection may use the cross-domain sets too
        save(last)
        extra = {}
        if monitor_sets is not None:
            cut = float(np.quantile(logits[val_labels == 0], 0.95))
            extra["cross_domain"] = monitor.report(
                lambda xs: predict_logits(model, xs.transpose(0, 3, 1, 2).copy(), normalize, dev), monitor_sets, cut)
            extra["val_real_cut"] = cut
            extra["val_tpr_at_cut"] = float(np.mean(logits[val_labels == 1] >= cut))
        emit(event="epoch", epoch=epoch, step=step, val_auc=auc, best_val_auc=best_auc, **extra)
        model.train()
    return out_dir / "best.pt"
