"""Each scan option is declared once (``unswap.scan.OPTIONS``, an ``unswap.options.Options``): ``ScanConfig(...)``, the CLI's
flags and the service's form fields take the same values and refuse the rest with the same
message (issue 29)."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLE
from fastapi.testclient import TestClient

from unswap.cli import _config, _parser, main
from unswap.detectors import DEFAULT_DETECTOR, list_detectors
from unswap.options import OptionError
from unswap.scan import OPTIONS, ScanConfig
from unswap.serve import ServeConfig
from unswap.serve.app import create_app

OTHER_DETECTOR = next(d for d in list_detectors() if d != DEFAULT_DETECTOR)

# option -> (text a user types or sends, the value a library caller passes, accepted?);
# a wrong type is passed to ScanConfig as the text itself
CASES: dict[str, list[tuple[str, object, bool]]] = {
    "detector": [(OTHER_DETECTOR, OTHER_DETECTOR, True), ("nope.v0", "nope.v0", False), ("3", 3, False)],
    "sample_fps": [("0.5", 0.5, True), ("240", 240.0, True), ("0", 0.0, False), ("-1", -1.0, False),
                   ("240.5", 240.5, False), ("500", 500.0, False), ("nan", float("nan"), False),
                   ("fast", "fast", False)],
    "every_frame": [("true", True, True), ("false", False, True), ("yes", "yes", False), ("1", 1, False)],
    "max_frames": [("1", 1, True), ("1000000", 1_000_000, True), ("0", 0, False), ("1000001", 1_000_001, False),
                   ("2.5", 2.5, False), ("x", "x", False)],
    "min_face_px": [("0", 0.0, True), ("4096", 4096.0, True), ("-2", -2.0, False), ("4097", 4097.0, False),
                    ("big", "big", False)],
}
PARAMS = [pytest.param(name, *case, id=f"{name}={case[0]}") for name, cases in CASES.items() for case in cases]


def test_every_option_is_tested():
    assert set(CASES) == {o.name for o in OPTIONS}


def _library(name: str, value: object) -> str | None:
    try:
        ScanConfig(**{name: value})
    except OptionError as e:
        return str(e)
    return None


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The real app with no worker started (no lifespan): an accepted scan stays queued."""
    app = create_app(ServeConfig(data=tmp_path_factory.mktemp("serve") / "data"))
    yield app, TestClient(app, base_url="http://127.0.0.1")


@pytest.mark.parametrize("name, text, value, ok", PARAMS)
def test_library_cli_and_api_accept_and_refuse_alike(api, capsys, name, text, value, ok):
    option = OPTIONS[name]
    message = _library(name, value)
    assert message == (None if ok else option.rule)

    # the CLI: the flag (every_frame is a flag without a value: only its valid values apply)
    if option.kind is bool:
        argv = [] if value is option.default else [option.flag] if value is (not option.default) else None
    else:
        argv = [option.flag, text]
    if argv is not None:
        code = main(["scan", "--json", *argv, str(SAMPLE)])
        out, err = capsys.readouterr()
        if ok:  # a real scan of the sample, with the config the library builds from the same value
            assert code == 0 and json.loads(out)["path"] == str(SAMPLE)
            assert _config(_parser().parse_args(["scan", *argv, str(SAMPLE)]), OPTIONS) == ScanConfig(**{name: value})
        else:
            assert (code, out, err.splitlines()) == (2, "", [f"unswap: {message}"])

    # the service: the upload's form field
    app, client = api
    r = client.post("/api/scans", files={"file": ("x.jpg", SAMPLE.read_bytes())}, data={name: text})
    if ok:
        assert r.status_code == 202, r.text
        options = json.loads(app.state.pool.store.get(r.json()["id"])["options"])
        assert ScanConfig(**options) == ScanConfig(**{name: value})
    else:
        assert (r.status_code, r.json()) == (400, {"code": "bad_option", "message": message})


@pytest.mark.parametrize("name, text, value, ok", [p for p in PARAMS if p.values[0] in ("sample_fps", "detector")])
def test_eval_takes_the_same_options(tmp_path, capsys, name, text, value, ok):
    labels = tmp_path / "labels.csv"  # missing: an accepted option gets as far as reading it
    code = main(["eval", "--media", str(labels), OPTIONS[name].flag, text])
    [line] = capsys.readouterr().err.splitlines()
    assert code == 2
    if ok:
        assert "labels.csv" in line
    else:
        assert line == f"unswap: {OPTIONS[name].rule}"


def test_the_openapi_form_is_the_options(api):
    _, client = api
    body = client.get("/openapi.json").json()["paths"]["/api/scans"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == ["file", *(o.name for o in OPTIONS)]
    props = schema["properties"]
    assert props["detector"]["enum"] == list_detectors()
    assert props["every_frame"]["type"] == "boolean"
    # each bound the schema states is where ScanConfig starts refusing
    for name in ("sample_fps", "max_frames", "min_face_px"):
        p, kind = props[name], OPTIONS[name].kind
        step = 1 if kind is int else 0.001
        rule = OPTIONS[name].rule
        if "minimum" in p:
            assert _library(name, kind(p["minimum"])) is None
        else:
            assert _library(name, kind(p["exclusiveMinimum"])) == rule
        assert _library(name, kind(p.get("minimum", p.get("exclusiveMinimum")) - step)) == rule
        assert _library(name, kind(p["maximum"])) is None
        assert _library(name, kind(p["maximum"] + step)) == rule


def test_an_unknown_option_is_refused_by_the_api_with_the_options_named(api):
    _, client = api
    r = client.post("/api/scans", files={"file": ("x.jpg", SAMPLE.read_bytes())}, data={"threshold": "0.1"})
    assert r.status_code == 400 and r.json() == {
        "code": "bad_option", "message": f"unknown option 'threshold' (options: {', '.join(o.name for o in OPTIONS)})"}
