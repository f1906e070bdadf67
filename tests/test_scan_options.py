"""Each option of a scan, a match and a hash is declared once (``unswap.scan.OPTIONS``,
``unswap.evidence.match.OPTIONS``, ``unswap.evidence.hashing.OPTIONS``, each an
``unswap.options.Options``): the config object, the CLI's flags and the service's form
fields (where the service takes the option) take the same values and refuse the rest with
the same message (issue 29)."""

from __future__ import annotations

import json
import shutil

import pytest
from tests.helpers.paths import SAMPLE
from fastapi.testclient import TestClient

from unswap.cli import _config, _parser, main
from unswap.detectors import DEFAULT_DETECTOR, list_detectors
from unswap.evidence import hashing, match
from unswap.options import OptionError
from unswap.scan import OPTIONS, ScanConfig
from unswap.serve import ServeConfig
from unswap.serve.app import create_app

OTHER_DETECTOR = next(d for d in list_detectors() if d != DEFAULT_DETECTOR)
NAN = float("nan")

CONFIGS = {"scan": OPTIONS, "match": match.OPTIONS, "hash": hashing.OPTIONS}
API_ROUTE = {"scan": "/api/scans", "hash": "/api/hash"}  # the service takes no match option

# (command, option) -> (text a user types or sends, the value a library caller passes,
# accepted?); a wrong type is passed to the config as the text itself
CASES: dict[tuple[str, str], list[tuple[str, object, bool]]] = {
    ("scan", "detector"): [(OTHER_DETECTOR, OTHER_DETECTOR, True), ("nope.v0", "nope.v0", False), ("3", 3, False)],
    ("scan", "sample_fps"): [("0.5", 0.5, True), ("240", 240.0, True), ("0", 0.0, False), ("-1", -1.0, False),
                             ("240.5", 240.5, False), ("500", 500.0, False), ("nan", NAN, False),
                             ("fast", "fast", False)],
    ("scan", "every_frame"): [("true", True, True), ("false", False, True), ("yes", "yes", False), ("1", 1, False)],
    ("scan", "max_frames"): [("1", 1, True), ("1000000", 1_000_000, True), ("0", 0, False),
                             ("1000001", 1_000_001, False), ("2.5", 2.5, False), ("x", "x", False)],
    ("scan", "min_face_px"): [("0", 0.0, True), ("4096", 4096.0, True), ("-2", -2.0, False), ("4097", 4097.0, False),
                              ("big", "big", False)],
    ("match", "fps"): [("0.5", 0.5, True), ("240", 240.0, True), ("0", 0.0, False), ("-1", -1.0, False),
                       ("240.5", 240.5, False), ("inf", float("inf"), False), ("fast", "fast", False)],
    ("match", "max_distance"): [("0", 0, True), ("127", 127, True), ("-1", -1, False), ("128", 128, False),
                                ("3.5", 3.5, False), ("x", "x", False)],
    ("match", "min_quality"): [("0", 0, True), ("100", 100, True), ("-1", -1, False), ("101", 101, False),
                               ("50.0", 50.0, False)],
    ("match", "min_frames"): [("1", 1, True), ("1000", 1000, True), ("0", 0, False), ("two", "two", False)],
    ("match", "max_gap_s"): [("0", 0.0, True), ("3.5", 3.5, True), ("-0.5", -0.5, False), ("nan", NAN, False)],
    ("match", "difference"): [("true", True, True), ("false", False, True), ("no", "no", False), ("0", 0, False)],
    ("hash", "fps"): [("0.5", 0.5, True), ("2", 2.0, True), ("240", 240.0, True), ("0", 0.0, False),
                      ("-1", -1.0, False), ("241", 241.0, False), ("nan", NAN, False), ("fast", "fast", False)],
}
PARAMS = [pytest.param(command, name, *case, id=f"{command}-{name}={case[0]}")
          for (command, name), cases in CASES.items() for case in cases]


def test_every_option_is_tested():
    assert set(CASES) == {(command, o.name) for command, options in CONFIGS.items() for o in options}


def _library(options, name: str, value: object) -> str | None:
    try:
        options.config(**{options[name].attr: value})
    except OptionError as e:
        return str(e)
    return None


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The real app with no worker started (no lifespan): an accepted scan stays queued."""
    app = create_app(ServeConfig(data=tmp_path_factory.mktemp("serve") / "data"))
    yield app, TestClient(app, base_url="http://127.0.0.1")


@pytest.fixture(scope="module")
def hash_file(tmp_path_factory):
    """A hash file of a copy of the sample: what ``unswap match SAMPLE`` finds it in."""
    folder = tmp_path_factory.mktemp("sources")
    source = shutil.copy(SAMPLE, folder / "source.jpg")
    out = folder / "sources.txt"
    with open(out, "w", encoding="utf-8") as f:
        hashing.write_hashes([hashing.hash_media(source)], f)
    return out


def _cli(command: str, argv: list[str], hash_file) -> list[str]:
    """The command line of ``command`` with the option's ``argv``, on the sample."""
    if command == "match":
        return ["match", str(SAMPLE), "--against", str(hash_file), *argv]
    return [command, *argv, str(SAMPLE)]


def _check_output(command: str, out: str, cfg) -> None:
    """What the run printed (``--json``) says it ran with ``cfg``."""
    doc = json.loads(out)
    if command == "match":
        assert (doc["max_distance"], doc["min_quality"]) == (cfg.max_distance, cfg.min_quality)
        assert doc["suspect"]["path"] == str(SAMPLE)
        for found in doc["matches"]:
            assert (found["difference"] is not None) == cfg.difference
    else:
        assert doc["path"] == str(SAMPLE)


@pytest.mark.parametrize("command, name, text, value, ok", PARAMS)
def test_library_cli_and_api_accept_and_refuse_alike(api, hash_file, capsys, command, name, text, value, ok):
    options = CONFIGS[command]
    option = options[name]
    message = _library(options, name, value)
    assert message == (None if ok else option.rule)

    # the CLI: the flag (a bool is a flag without a value that sets the value its default
    # is not: only its valid values apply)
    if option.kind is bool:
        argv = [] if value is option.default else [option.flag] if value is (not option.default) else None
    else:
        argv = [option.flag, text]
    if argv is not None:
        code = main([*_cli(command, ["--json", *argv], hash_file)])
        out, err = capsys.readouterr()
        if ok:  # a real run on the sample, with the config the library builds from the same value
            cfg = _config(_parser().parse_args(_cli(command, argv, hash_file)), options)
            assert cfg == options.config(**{option.attr: value})
            assert code == 0, err
            _check_output(command, out, cfg)
        else:
            assert (code, out, err.splitlines()) == (2, "", [f"unswap: {message}"])

    # the service: the upload's form field
    if command not in API_ROUTE:
        return
    app, client = api
    r = client.post(API_ROUTE[command], files={"file": ("x.jpg", SAMPLE.read_bytes())}, data={name: text})
    if not ok:
        assert (r.status_code, r.json()) == (400, {"code": "bad_option", "message": message})
    elif command == "scan":
        assert r.status_code == 202, r.text
        stored = json.loads(app.state.serve.store.get(r.json()["id"])["options"])
        assert ScanConfig(**stored) == ScanConfig(**{name: value})
    else:
        assert r.status_code == 200, r.text
        assert r.json()["hashes"]["path"] == "x.jpg"


@pytest.mark.parametrize("command, name, text, value, ok",
                         [p for p in PARAMS if p.values[:2] in (("scan", "sample_fps"), ("scan", "detector"))])
def test_eval_takes_the_same_options(tmp_path, capsys, command, name, text, value, ok):
    labels = tmp_path / "labels.csv"  # missing: an accepted option gets as far as reading it
    code = main(["eval", "--media", str(labels), OPTIONS[name].flag, text])
    [line] = capsys.readouterr().err.splitlines()
    assert code == 2
    if ok:
        assert "labels.csv" in line
    else:
        assert line == f"unswap: {OPTIONS[name].rule}"


def test_each_flag_says_its_default(capsys):
    for command, options in CONFIGS.items():
        assert main([command, "--help"]) == 0
        help_text = " ".join(capsys.readouterr().out.split())
        for o in options:
            assert o.flag in help_text
            if o.kind is not bool:
                shown = "no limit" if o.default is None else o.default if isinstance(o.default, str) else f"{o.default:g}"
                assert f"(default {shown})" in help_text


@pytest.mark.parametrize("command", list(API_ROUTE))
def test_the_openapi_form_is_the_options(api, command):
    _, client = api
    options = CONFIGS[command]
    body = client.get("/openapi.json").json()["paths"][API_ROUTE[command]]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == ["file", *(o.name for o in options)]
    props = schema["properties"]
    for o in options:
        p = props[o.name]
        assert p["description"] == o.help
        if o.choices is not None:
            assert p["enum"] == list_detectors()
            continue
        if o.kind is bool:
            assert p["type"] == "boolean"
            continue
        # each bound the schema states is where the config starts refusing
        step = 1 if o.kind is int else 0.001
        if "minimum" in p:
            assert _library(options, o.name, o.kind(p["minimum"])) is None
        else:
            assert _library(options, o.name, o.kind(p["exclusiveMinimum"])) == o.rule
        assert _library(options, o.name, o.kind(p.get("minimum", p.get("exclusiveMinimum")) - step)) == o.rule
        assert _library(options, o.name, o.kind(p["maximum"])) is None
        assert _library(options, o.name, o.kind(p["maximum"] + step)) == o.rule


@pytest.mark.parametrize("command", list(API_ROUTE))
def test_an_unknown_option_is_refused_by_the_api_with_the_options_named(api, command):
    _, client = api
    r = client.post(API_ROUTE[command], files={"file": ("x.jpg", SAMPLE.read_bytes())}, data={"threshold": "0.1"})
    names = ", ".join(o.name for o in CONFIGS[command])
    assert r.status_code == 400 and r.json() == {
        "code": "bad_option", "message": f"unknown option 'threshold' (options: {names})"}
