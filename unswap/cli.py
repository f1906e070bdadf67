"""Command line: parse, call the library, print. ``main(argv)`` runs in-process.

Exit codes: 0 all inputs handled, 2 a user error (bad input, bad option), with one
line on stderr per problem. Tracebacks are for bugs only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import replace
from pathlib import Path

from unswap.text import printable

EXIT_OK, EXIT_USER = 0, 2


class UserError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse with its errors as one line (``unswap: ...``) and exit status 2, no usage dump."""

    def error(self, message: str):
        _err(message)
        raise SystemExit(EXIT_USER)


def _number(kind: type, minimum: float, strict: bool, what: str):
    """An argparse type: a finite ``kind`` above (``strict``) or at least ``minimum``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"must be {what}, not {text!r}")
        return value

    return parse


_positive_float = _number(float, 0.0, True, "a positive number")
_nonnegative_float = _number(float, 0.0, False, "a number of at least 0")


def _parser() -> argparse.ArgumentParser:
    from unswap import __version__
    from unswap.evaluate import DEGRADATIONS
    from unswap.evidence.hashing import OPTIONS as HASH_OPTIONS
    from unswap.evidence.match import OPTIONS as MATCH_OPTIONS
    from unswap.scan import OPTIONS as SCAN_OPTIONS

    p = _Parser(prog="unswap", description="Find face-swapped faces in images and video.")
    p.add_argument("--version", action="version", version=f"unswap {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands",
                           description="'unswap COMMAND --help' tells more about each")

    s = sub.add_parser("scan", help="scan images and videos (files or folders) for swapped faces")
    s.add_argument("paths", nargs="*", metavar="PATH",
                   help="image or video files, and folders walked recursively; - reads one file from stdin")
    s.add_argument("--json", action="store_true", help="one JSON object per input on stdout (JSON Lines)")
    _option_flags(s, SCAN_OPTIONS, "every_frame", "sample_fps", "max_frames", "min_face_px", "detector")
    s.add_argument("--quiet", action="store_true", help="no progress on stderr")
    s.add_argument("--report", type=Path, metavar="OUT.html",
                   help="also write a self-contained HTML evidence report (one PATH only)")
    s.add_argument("--against", metavar="DIR|HASHFILE",
                   help="with --report: look for the source the file was made from among these media or hashes")
    _batch_options(s)
    s.add_argument("--out", type=Path, metavar="RESULTS.jsonl",
                   help="append one JSON line per file (scan --json, plus sha256, size, error) as each finishes")
    s.add_argument("--resume", action="store_true",
                   help="with --out: skip the files already there (same path, SHA-256 and detector)")
    s.add_argument("--csv", type=Path, metavar="SUMMARY.csv", help="write one row per file, highest p_fake first")

    e = sub.add_parser("eval", help="measure a detector: on a face-crop set (--faces, --split), or on whole "
                                    "files scanned as 'unswap scan' does (--media labels.csv)")
    e.add_argument("--faces", type=Path, help="folder with SPLIT.csv and its shards")
    e.add_argument("--split", help="with --faces: which split to score (a SPLIT.csv there: train, val or test)")
    e.add_argument("--media", type=Path, metavar="LABELS.csv",
                   help="labels.csv (path,label[,method,...], paths relative to it): scan every file listed")
    e.add_argument("--by", metavar="COLUMN", help="with --media: also report per value of this column (e.g. race)")
    e.add_argument("--holdout", action="store_true",
                   help="with --media on FairFace: only the photos training held out (200 per race group)")
    _option_flags(e, SCAN_OPTIONS, "sample_fps", "detector", note="with --media: ")
    e.add_argument("--scores", type=Path, help="write the score of each sample (or file) to this CSV")
    e.add_argument("--json", action="store_true", help="print the metrics as JSON")
    e.add_argument("--degrade", default="none", choices=DEGRADATIONS,
                   help="degrade each crop before scoring (default none)")

    t = sub.add_parser("train", help="train a detector on self-blended images (needs unswap[train])")
    t.add_argument("--config", required=True, type=Path, help="training recipe (configs/*.yaml)")
    t.add_argument("--out", required=True, type=Path, help="run folder: logs and checkpoints (resumes)")
    t.add_argument("--faces", type=Path, default=None, help="face-crop set (default: $UNSWAP_DATA/faces)")
    t.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    t.add_argument("--pack", type=Path, default=None,
                   help="train a mixed recipe from a pack (python -m unswap.train make-pack) instead of the data folders; "
                        "val is then scored only when the face-crop set is there too")
    t.add_argument("--time-budget-s", type=_positive_float, default=None,
                   help="fit a fresh run's epochs to this many seconds (step rate measured early; logged; "
                        "default: the config's epochs)")

    x = sub.add_parser("export", help="export a checkpoint to ONNX, calibrated on val (needs unswap[train])")
    x.add_argument("--checkpoint", required=True, type=Path, action="append",
                   help="a run's checkpoint; give it more than once to ship an ensemble (the mean of their outputs)")
    x.add_argument("--out", required=True, type=Path, help="detector folder to write")
    x.add_argument("--name", default="effnetlite0_sbi", help="detector name written in its config "
                                                              "(default effnetlite0_sbi)")
    x.add_argument("--version", dest="tag", default="v1", help="detector version tag (default v1)")
    x.add_argument("--uncertain-margin", type=_nonnegative_float, default=0.0,
                   help="label a file 'uncertain' when its p_fake is this close to the threshold (default 0)")
    x.add_argument("--faces", type=Path, default=None,
                   help="face-crop set whose val split calibrates the export (default: $UNSWAP_DATA/faces)")

    sub.add_parser("detectors", help="list the detectors: what each is, and which is the default")

    h = sub.add_parser("hash", help="PDQ perceptual hashes of images and video frames (docs/hash-format.md)")
    h.add_argument("paths", nargs="*", metavar="PATH", help="files, and folders walked recursively")
    _option_flags(h, HASH_OPTIONS)
    h.add_argument("--json", action="store_true", help="one JSON object per input on stdout (JSON Lines)")
    h.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _batch_options(h)

    m = sub.add_parser("match", help="find where a suspect image or video comes from, and what was changed")
    m.add_argument("suspect", metavar="SUSPECT", help="the image or video whose source is sought")
    m.add_argument("--against", required=True, type=Path, metavar="DIR|HASHFILE",
                   help="folder of source media (hashed now) or a file written by 'unswap hash'")
    _option_flags(m, MATCH_OPTIONS)
    _folder_options(m, "with --against DIR: ")
    m.add_argument("--json", action="store_true", help="print the result as one JSON object")

    v = sub.add_parser("provenance", help="read and check C2PA Content Credentials")
    v.add_argument("paths", nargs="+", metavar="PATH", help="images or videos whose Content Credentials are read")
    v.add_argument("--json", action="store_true", help="one JSON object per input on stdout (JSON Lines)")

    w = sub.add_parser("serve", help="a web page and HTTP API on this machine (needs unswap[serve])")
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    w.add_argument("--data", type=Path, default=None,
                   help="folder for the job store and uploads (default: a per-user data folder)")
    w.add_argument("--workers", type=int, default=1, help="scanning processes, each holding the model (default 1)")
    w.add_argument("--token", default=None,
                   help="API calls need 'Authorization: Bearer T' (default $UNSWAP_TOKEN); required off loopback")
    w.add_argument("--max-upload-mb", type=int, default=2048, help="largest upload accepted (default 2048)")
    w.add_argument("--max-queue", type=int, default=64,
                   help="scans waiting or running before a new one is refused with 429 (default 64)")
    w.add_argument("--upload-timeout", type=float, default=60.0,
                   help="refuse an upload that sends nothing for this many seconds (default 60)")
    w.add_argument("--upload-deadline", type=float, default=1800.0,
                   help="refuse an upload not finished this many seconds after it began (default 1800)")
    w.add_argument("--max-uploads", type=int, default=16, help="uploads streaming at once, all routes (default 16)")
    w.add_argument("--max-disk-mb", type=int, default=8192,
                   help="uploads kept on disk at once: queued media and those streaming (default 8192)")
    w.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also serve requests for this host name (repeatable; '*' any), "
                        "beyond loopback names and --host")
    w.add_argument("--library", type=Path, default=None, metavar="HASHES|DIR",
                   help="hash file ('unswap hash' output), or folder of media hashed at start, "
                        "that uploads are matched against")
    _folder_options(w, "with --library DIR: ")
    w.add_argument("--keep-media", action="store_true", help="keep uploads after their scan (default: deleted)")
    return p


def _option_flags(p: argparse.ArgumentParser, options, *names: str, note: str = "") -> None:
    """A flag for each named option of ``options`` (an ``unswap.options.Options``; no names:
    all of them), its help and default taken from there. The flag keeps the text given
    (None: not given), for ``_config`` to hand to the config, which checks it as it checks
    the service's form fields; a bool's flag sets the value its default is not."""
    for o in [options[name] for name in names] or list(options):
        if o.kind is bool:
            p.add_argument(o.flag, dest=o.name, action="store_const", const=not o.default, default=None,
                           help=note + ("do not " if o.default else "") + o.help)
            continue
        default = "no limit" if o.default is None else o.default if isinstance(o.default, str) else f"{o.default:g}"
        p.add_argument(o.flag, dest=o.name, default=None, help=f"{note}{o.help} (default {default})")


def _config(args, options, **more):
    """The config of ``options`` with the flags given (the rest keep the config's defaults);
    a value it refuses is a UserError with the config's own message."""
    from unswap.options import OptionError

    given = {o.name: getattr(args, o.name) for o in options if getattr(args, o.name, None) is not None}
    try:
        return options.config(**options.parse(given), **more)
    except OptionError as e:
        raise UserError(str(e)) from None


def _batch_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--from-list", metavar="FILE", help="also the paths in FILE, one a line ('-': standard input)")
    _folder_options(p)
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="worker processes (default: the cores)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run on Ray: 'auto', a cluster's host:port, or nothing for a local Ray (needs unswap[ray])")


def _folder_options(p: argparse.ArgumentParser, note: str = "") -> None:
    """The flags of ``unswap.inputs.collect``'s folder rule, for every command that walks a folder."""
    p.add_argument("--follow-links", action="store_true", help=note + "follow symbolic links out of the folders given")
    p.add_argument("--hidden", action="store_true", help=note + "also walk hidden files and folders (.git, .cache, ...)")


def _err(msg: str) -> None:
    print(f"unswap: {msg}", file=sys.stderr, flush=True)


def _say(text: str) -> bool:
    """Print ``text`` on stdout; False once the reader has gone (``| head``), after which
    stdout goes nowhere, so the run can finish what else it writes (--csv, --out)."""
    import os

    try:
        print(text, flush=True)
        return True
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return False


def _progress(path: str, unit: str = "frame"):
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int | None) -> None:
        of = f" of {total}" if total else ""
        print(f"\r{printable(path)}: {unit} {done}{of}", end="", file=sys.stderr, flush=True)

    return show


def cmd_scan(args) -> int:
    from unswap.media import MediaError
    from unswap.report import to_dict, to_text
    from unswap.scan import OPTIONS as SCAN_OPTIONS
    from unswap.scan import Scanner

    cfg = _config(args, SCAN_OPTIONS, keep_crops=3 if args.report else 0)
    if args.paths.count("-") > 1:
        raise UserError("- (stdin) can be given once")
    if "-" in args.paths and sys.stdin.isatty():
        raise UserError("-: stdin is a terminal; pipe a file in (cat clip.mp4 | unswap scan -)")
    if _is_batch(args):
        if args.report:
            raise UserError("--report takes exactly one file, not a folder or a batch")
        if "-" in args.paths:
            raise UserError("- (stdin) scans one file, not a batch; use --from-list - for a list of paths")
        return _batch_scan(args, cfg)
    if not args.paths:
        raise UserError("no PATH given")
    if args.report and len(args.paths) != 1:
        raise UserError("--report takes exactly one PATH")
    if args.against and not args.report:
        raise UserError("--against needs --report")
    if args.against and not Path(args.against).exists():
        raise UserError(f"{args.against}: no such file or folder")
    scanner = Scanner(cfg)
    code = EXIT_OK
    for path in args.paths:
        with _input_file(path) as file:
            progress = None if args.quiet or args.json else _progress(path)
            try:
                result = scanner.scan(file, progress)
            except MediaError as e:
                _err(f"{printable(path)}: {e}")
                code = EXIT_USER
                continue
            finally:
                if progress:
                    print("\r\033[K", end="", file=sys.stderr, flush=True)
            result.path = path
            if args.json:
                print(json.dumps(to_dict(result)), flush=True)
            else:
                print(to_text(replace(result, path=printable(path))), flush=True)
            if args.report:
                _write_report(result, args, file)
    return code


@contextlib.contextmanager
def _input_file(path: str):
    """The file to read for a PATH argument: itself, or for ``-`` stdin spooled to a
    private temporary file that is removed afterwards."""
    if path != "-":
        yield path
        return
    from unswap.media import spooled

    with spooled(sys.stdin.buffer) as file:
        yield str(file)


def _write_report(result, args, file: str) -> None:
    import shlex

    from unswap.report.html import gather, render_html

    command = "unswap " + shlex.join(args.argv)
    from unswap.evidence.match import MatchError

    try:
        doc = render_html(result, gather(result, args.against, command, file=file, follow_links=args.follow_links,
                                         hidden=args.hidden))
    except MatchError as e:
        raise UserError(f"{args.against}: {e}") from None
    try:
        args.report.write_text(doc, encoding="utf-8")
    except OSError as e:
        raise UserError(f"{args.report}: cannot write report ({e.strerror or e})") from None
    if not args.json:
        print(f"  report written to {args.report}", flush=True)


def cmd_eval(args) -> int:
    from unswap.detectors import create_detector
    from unswap.evaluate import evaluate
    from unswap.facesets import FaceSetError
    from unswap.scan import OPTIONS as SCAN_OPTIONS

    cfg = _config(args, SCAN_OPTIONS)
    if args.media is not None:
        return _eval_media(args, cfg)
    if args.faces is None or args.split is None:
        raise UserError("eval needs --faces and --split (a face-crop set), or --media LABELS.csv")
    try:
        detector = create_detector(cfg.detector)
        metrics = evaluate(detector, args.faces, args.split, args.scores, args.degrade)
    except FaceSetError as e:
        raise UserError(str(e)) from None
    if args.json:
        print(json.dumps({"detector": detector.id, "split": args.split, **metrics}))
    elif "auc" not in metrics:
        print(f"{args.split}: {metrics['count']} samples; {metrics['note']}")
    else:
        how = "" if args.degrade == "none" else f", degraded: {args.degrade}"
        print(f"detector {detector.id} on {args.faces}/{args.split} ({metrics['count']} faces{how})")
        print(f"  AUC {metrics['auc']:.4f}  AP {metrics['ap']:.4f}  EER {metrics['eer']:.4f}  "
              f"accuracy {metrics['accuracy']:.4f} at threshold {metrics['threshold']:.3f}  "
              f"ECE {metrics['ece_15']:.4f}")
    if args.scores:
        print(f"  scores written to {args.scores}")
    return EXIT_OK


def _eval_media(args, cfg) -> int:
    from unswap.evaluate import evaluate_media, media_text
    from unswap.mediasets import MediaSetError
    from unswap.scan import Scanner

    if args.faces is not None or args.split is not None or args.degrade != "none":
        raise UserError("--media scans whole files: it takes no --faces, --split or --degrade")
    show = _progress(str(args.media), "file")
    try:
        scanner = Scanner(cfg)
        result = evaluate_media(scanner, args.media, args.scores, args.by, args.holdout,
                                progress=show)
    except MediaSetError as e:
        raise UserError(str(e)) from None
    if show:
        print(file=sys.stderr)
    det = scanner.detector
    if args.json:
        print(json.dumps({"detector": det.id, **result}))
    else:
        print(media_text(det.id, result, args.by))
        sentence = det.config.rates_sentence()
        if sentence:
            print(f"  shipped rates: {sentence}")
    if args.scores:
        print(f"  scores written to {args.scores}")
    return EXIT_OK


def _faces_dir(arg: Path | None, required: bool = True) -> Path | None:
    """The face-crop set (``--faces``, else $UNSWAP_DATA/faces); when it is absent, a
    one-line error, or None where it is not ``required``."""
    from unswap.paths import shared_data_dir

    d = arg or shared_data_dir() / "faces"
    if not d.is_dir():
        if not required:
            return None
        raise UserError(f"{d}: no face-crop set there (set UNSWAP_DATA or pass --faces)")
    return d


def cmd_train(args) -> int:
    from unswap.errors import MissingExtra

    try:
        from unswap.train.loop import train
    except ImportError:
        raise UserError(str(MissingExtra("train", "training"))) from None
    if not args.config.is_file():
        raise UserError(f"{args.config}: no such config file")
    if args.pack is not None and not args.pack.is_file():
        raise UserError(f"{args.pack}: no such pack")
    # with a pack the face-crop set is optional: val is scored only when it is there
    faces = _faces_dir(args.faces, required=args.pack is None)
    try:
        best = train(args.config, args.out, faces, args.device, data_dir=None if faces is None else faces.parent,
                     pack=args.pack, time_budget_s=args.time_budget_s)
    except ValueError as e:
        raise UserError(str(e)) from None
    print(f"{'best' if best.name == 'best.pt' else 'last (no val to choose by)'} checkpoint: {best}")
    return EXIT_OK


def cmd_export(args) -> int:
    from unswap.errors import MissingExtra

    try:
        from unswap.train.export import export
    except ImportError:
        raise UserError(str(MissingExtra("train", "export"))) from None
    for path in args.checkpoint:
        if not path.is_file():
            raise UserError(f"{path}: no such checkpoint")
    try:
        cfg = export(args.checkpoint, args.out, _faces_dir(args.faces), args.name, args.tag, args.uncertain_margin)
    except ValueError as e:
        raise UserError(str(e)) from None
    v = cfg["metrics"]["val"]
    print(f"exported {args.out}: val AUC {v['auc']:.4f}, ECE {v['ece_15']:.4f}, threshold {cfg['threshold']:.4f}")
    return EXIT_OK


def cmd_detectors(args) -> int:
    from unswap.detectors import DEFAULT_DETECTOR, list_detectors
    from unswap.vocabulary import detector_lines

    for name in list_detectors():
        print(name + ("  (default: what scan uses unless --detector says otherwise)" if name == DEFAULT_DETECTOR else ""))
        for line in detector_lines(name):
            print(f"  {line}")
    return EXIT_OK


def cmd_provenance(args) -> int:
    from unswap.errors import MissingExtra
    from unswap.evidence.provenance import ProvenanceError, read_provenance

    code = EXIT_OK
    for path in args.paths:
        try:
            result = read_provenance(path)
        except MissingExtra as e:
            raise UserError(str(e)) from None
        except ProvenanceError as e:
            _err(f"{printable(path)}: {e}")
            code = EXIT_USER
            continue
        shown = replace(result, path=printable(path))
        print(json.dumps(result.to_dict()) if args.json else shown.to_text(), flush=True)
    return code


def cmd_hash(args) -> int:
    from unswap.evidence.hashing import MAGIC, OPTIONS, format_hashes, hash_media, to_dict
    from unswap.media import MediaError

    cfg = _config(args, OPTIONS)
    if not args.json:
        print(MAGIC, flush=True)
    if _is_batch(args):
        return _batch_hash(args, cfg)
    if not args.paths:
        raise UserError("no PATH given")
    code = EXIT_OK
    for path in args.paths:
        try:
            hashes = hash_media(path, cfg.sample_fps)
        except MediaError as e:
            _err(f"{printable(path)}: {e}")
            code = EXIT_USER
            continue
        print(json.dumps(to_dict(hashes)) if args.json else format_hashes(hashes), flush=True)
    return code


def _is_batch(args) -> bool:
    """Whether the call is a batch (folders, a list, parallel or Ray): then the batch
    options apply, and an error on a file found in a folder is a line, not exit 2."""
    return (bool(args.from_list) or args.jobs is not None or args.ray is not None
            or getattr(args, "out", None) is not None or getattr(args, "csv", None) is not None
            or getattr(args, "resume", False) or any(Path(p).is_dir() for p in args.paths))


def _batch_inputs(args):
    from unswap.inputs import collect, read_list

    if args.ray and Path(args.ray).exists():
        # `--ray DIR`: argparse took the first PATH for the optional address
        args.paths, args.ray = [args.ray, *args.paths], ""
    paths = list(args.paths)
    if args.from_list:
        try:
            if args.from_list == "-":
                paths += read_list(sys.stdin)
            else:
                with open(args.from_list, encoding="utf-8") as f:
                    paths += read_list(f)
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"{args.from_list}: cannot read the list ({getattr(e, 'strerror', None) or e})") from None
    if not paths:
        raise UserError("no PATH given")
    if args.jobs is not None and args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    inputs = collect(paths, follow_links=args.follow_links, hidden=args.hidden)
    for path, why in inputs.skipped:
        _err(f"skipped {printable(path)}: {why}")
    return inputs


def _batch_run(args, outcomes, on_result, summary) -> int:
    """Print each outcome as it comes (progress on stderr); 2 when a file named by the user failed."""
    from unswap.errors import MissingExtra

    tty = sys.stderr.isatty() and not args.quiet

    def frames(path, done, total):
        if tty:
            print("\r\033[K" + summary.progress_text(path, (done, total)), end="", file=sys.stderr, flush=True)

    code = EXIT_OK
    try:
        for outcome in outcomes(frames):
            if tty:
                print("\r\033[K", end="", file=sys.stderr, flush=True)
            summary.add(outcome)
            if outcome.error is not None:
                _err(f"{printable(outcome.path)}: {outcome.error}")
                if outcome.path in args.inputs.explicit:
                    code = EXIT_USER
            on_result(outcome)
            if tty:
                print("\r\033[K" + summary.progress_text(), end="", file=sys.stderr, flush=True)
            elif not args.quiet:
                _err(f"{summary.progress_text()}: {printable(outcome.path)}")
    except MissingExtra as e:
        raise UserError(str(e)) from None
    except BrokenPipeError:
        raise  # stdout's reader went away: not the cluster's doing
    except ConnectionError as e:
        raise UserError(f"--ray {args.ray}: cannot reach the cluster ({e})") from None
    finally:
        if tty:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
    _err(summary.text())
    return code


def _batch_scan(args, cfg) -> int:
    from unswap import batch
    from unswap.report import scan_record, to_dict, to_text

    if args.resume and args.out is None:
        raise UserError("--resume needs --out")
    args.inputs = _batch_inputs(args)
    files = args.inputs.files
    summary = batch.Summary(skipped=len(args.inputs.skipped))
    results, records = None, []
    if args.out is not None:
        try:
            results = batch.ResultsFile(args.out)
        except batch.ResultsError as e:
            raise UserError(f"{args.out}: {e}") from None
        if args.resume:
            files = list(batch.pending(files, results.done(), cfg.detector))
            summary.resumed = len(args.inputs.files) - len(files)
        records = results.records
    summary.total = len(files)

    def on_result(outcome) -> None:
        record = scan_record(outcome.path, cfg.detector, outcome.result, sha256=outcome.sha256, size=outcome.size,
                             error=outcome.error)
        if results is not None:
            results.append(record)
        else:
            records.append(record)
        if outcome.result is not None:
            shown = replace(outcome.result, path=printable(outcome.path))
            said = _say(json.dumps(to_dict(outcome.result)) if args.json else to_text(shown))
            if not said and results is None and args.csv is None:
                raise BrokenPipeError  # the reader has gone and nothing else keeps the results: stop

    try:
        code = _batch_run(args, lambda frames: batch.scan_many(files, cfg, jobs=args.jobs, ray=args.ray,
                                                                 progress=frames), on_result, summary)
    finally:
        if results is not None:
            results.close()
    if args.csv is not None:
        try:
            batch.write_csv(records, args.csv)
        except OSError as e:
            raise UserError(f"{args.csv}: cannot write ({e.strerror or e})") from None
    return code


def _batch_hash(args, cfg) -> int:
    from unswap import batch
    from unswap.evidence.hashing import format_hashes, to_dict

    args.inputs = _batch_inputs(args)
    summary = batch.Summary(total=len(args.inputs.files), skipped=len(args.inputs.skipped))

    def on_result(outcome) -> None:
        if outcome.result is not None:
            print(json.dumps(to_dict(outcome.result)) if args.json else format_hashes(outcome.result), flush=True)

    return _batch_run(args, lambda frames: batch.hash_many(args.inputs.files, cfg.sample_fps, jobs=args.jobs,
                                                             ray=args.ray), on_result, summary)


def cmd_match(args) -> int:
    from unswap.evidence.match import OPTIONS, MatchError, match, to_dict, to_text
    from unswap.media import MediaError

    cfg = _config(args, OPTIONS)
    try:
        result = match(args.suspect, args.against, cfg, follow_links=args.follow_links, hidden=args.hidden)
    except MediaError as e:
        raise UserError(f"{args.suspect}: {e}") from None
    except MatchError as e:
        raise UserError(f"{args.against}: {e}") from None
    print(json.dumps(to_dict(result)) if args.json else to_text(result), flush=True)
    return EXIT_OK


def cmd_serve(args) -> int:
    import os

    from unswap.errors import MissingExtra
    from unswap.serve import ServeConfig, check_token, default_data_dir, is_loopback, require_extra, run

    try:
        require_extra()
    except MissingExtra as e:
        raise UserError(str(e)) from None
    token = args.token if args.token is not None else os.environ.get("UNSWAP_TOKEN") or None
    try:
        check_token(token)
    except ValueError as e:
        raise UserError(str(e)) from None
    if not is_loopback(args.host) and not token:
        raise UserError(f"--host {args.host} is reachable from other machines: give --token T "
                        "(or set UNSWAP_TOKEN) so that only holders of the token get in")
    if not 0 <= args.port <= 65535:
        raise UserError("--port must be in 0..65535")
    for name, value in (("--workers", args.workers), ("--max-upload-mb", args.max_upload_mb),
                        ("--max-queue", args.max_queue), ("--max-uploads", args.max_uploads)):
        if value < 1:
            raise UserError(f"{name} must be at least 1")
    if args.upload_timeout <= 0 or args.upload_deadline <= 0:
        raise UserError("--upload-timeout and --upload-deadline must be positive")
    if args.max_disk_mb < args.max_upload_mb:
        raise UserError("--max-disk-mb must be at least --max-upload-mb")
    library = None
    if args.library is not None:
        from unswap.evidence.match import MatchError
        from unswap.serve.library import Library

        try:
            # read (a folder: hashed) once, here, and served as it is
            library = Library(args.library, follow_links=args.follow_links, hidden=args.hidden)
        except MatchError as e:
            raise UserError(f"{args.library}: {e}") from None
    import sqlite3

    from unswap.serve.jobs import JobStore

    data = args.data or default_data_dir()
    try:
        JobStore(data)
    except (OSError, sqlite3.Error) as e:
        raise UserError(f"{data}: cannot use it as the data folder ({getattr(e, 'strerror', None) or e})") from None
    run(ServeConfig(host=args.host, port=args.port, data=data, workers=args.workers, token=token,
                    max_upload_mb=args.max_upload_mb, library=args.library, follow_links=args.follow_links,
                    hidden=args.hidden, keep_media=args.keep_media,
                    max_queue=args.max_queue, upload_timeout_s=args.upload_timeout,
                    upload_deadline_s=args.upload_deadline, max_uploads=args.max_uploads,
                    max_disk_mb=args.max_disk_mb, allowed_hosts=tuple(args.allow_host)), library)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) and EXIT_USER
    if args.command is None:  # bare `unswap`: what it does and the commands, as --help says
        print(_parser().format_help(), end="", file=sys.stderr)
        return EXIT_USER
    args.argv = list(sys.argv[1:] if argv is None else argv)
    handler = {"scan": cmd_scan, "eval": cmd_eval, "train": cmd_train, "export": cmd_export,
               "detectors": cmd_detectors, "provenance": cmd_provenance, "hash": cmd_hash,
               "match": cmd_match, "serve": cmd_serve}[args.command]
    try:
        return handler(args)
    except UserError as e:
        _err(str(e))
        return EXIT_USER
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (`unswap hash ... | head`): stop quietly, as Unix tools do
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
