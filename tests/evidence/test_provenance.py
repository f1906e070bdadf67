"""C2PA Content Credentials: valid, tampered, corrupt and absent manifests; the CLI contract."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from tests.helpers.paths import shared

from unswap.cli import main
from unswap.errors import MissingExtra
from unswap.evidence.provenance import (
    UNREADABLE_CODE,
    Provenance,
    ProvenanceError,
    read_provenance,
    summarize,
)

needs_c2pa = pytest.mark.skipif(
    importlib.util.find_spec("c2pa") is None, reason="c2pa-python not installed (pip install -e .)")


def c2pa_sample(name: str) -> Path:
    return shared("c2pa", name)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def round_trip(p: Provenance) -> Provenance:
    return Provenance.from_dict(json.loads(json.dumps(p.to_dict())))


# Corruptions of a copy of signed_C.jpg, each placed by a landmark in the manifest store
# rather than by a fixed offset: (first byte to flip, bytes flipped) or a truncation length.
def _flip(data: bytes, at: int, n: int = 8) -> bytes:
    out = bytearray(data)
    for i in range(at, at + n):
        out[i] ^= 0xFF
    return bytes(out)


CORRUPTIONS = {
    "claim CBOR": lambda d: _flip(d, d.index(b"c2cl") + 64),
    "actions assertion CBOR": lambda d: _flip(d, d.index(b"cbor", d.index(b"c2pa.actions")) + 40),
    "JUMBF superbox header": lambda d: _flip(d, d.index(b"jumb")),
    "cut inside the manifest": lambda d: d[: d.index(b"c2cs")],
    "image data after signing": lambda d: _flip(d, len(d) - 4096),
}


@needs_c2pa
def test_signed_image_validates_with_untrusted_test_signer():
    p = read_provenance(c2pa_sample("signed_C.jpg"))
    assert p.status == "valid"
    assert p.trusted is False  # C2PA test credentials; no trust list is loaded offline
    assert p.errors == ()
    assert p.manifest_count == 1 and p.active_manifest.startswith("contentauth:urn:uuid:")
    assert p.claim_generator == "make_test_images/0.26.0 c2pa-rs/0.26.0"
    assert (p.signer, p.issuer) == ("C2PA Signer", "C2PA Test Signing Cert")
    assert p.signed_at == "2023-09-29T17:40:14+00:00"
    assert (p.title, p.format) == ("C.jpg", "image/jpeg")
    assert [(a.action, a.digital_source_type) for a in p.actions] == [
        ("c2pa.created", "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia")]
    assert p.ai_generated is False  # algorithmicMedia: made by a formula, not a trained model
    assert p.edited is False
    assert round_trip(p) == p


@needs_c2pa
def test_signed_video_validates_with_its_ingredient():
    p = read_provenance(c2pa_sample("signed_video1.mp4"))
    assert p.status == "valid" and p.trusted is False and p.errors == ()
    assert p.format == "video/mp4" and p.title == "My Title"
    assert p.claim_generator == "TestApp c2patool/0.6.2 c2pa-rs/0.28.2"
    assert p.manifest_count == 2  # the active manifest and its parent ingredient's
    assert p.signer == "C2PA Signer" and p.signed_at == "2023-12-02T16:34:19+00:00"
    assert [a.action for a in p.actions] == ["c2pa.opened", "c2pa.opened"]
    assert p.actions[0].manifest == p.active_manifest != p.actions[1].manifest
    assert not p.ai_generated and not p.edited
    assert round_trip(p) == p


@needs_c2pa
def test_tampered_image_is_invalid_not_absent():
    p = read_provenance(c2pa_sample("tampered_XCA.jpg"))
    assert p.status == "invalid"
    assert p.active_manifest is not None and p.signer == "C2PA Signer"
    assert "assertion.dataHash.mismatch" in [e.code for e in p.errors]
    assert all(e.explanation for e in p.errors)
    assert p.edited is True  # it claims c2pa.color_adjustments
    assert round_trip(p) == p


@needs_c2pa
def test_unsigned_image_has_none():
    p = read_provenance(c2pa_sample("unsigned_IMG_0003.jpg"))
    assert p == Provenance(str(c2pa_sample("unsigned_IMG_0003.jpg")), "none")
    assert p.to_text().endswith("no Content Credentials")


@needs_c2pa
@pytest.mark.parametrize("where", CORRUPTIONS)
def test_corrupt_manifest_is_invalid_not_absent(tmp_path, where):
    data = c2pa_sample("signed_C.jpg").read_bytes()
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(CORRUPTIONS[where](data))
    p = read_provenance(path)
    assert p.status == "invalid", where
    assert p.errors, where
    assert "INVALID" in p.to_text().splitlines()[0]
    assert round_trip(p) == p


@needs_c2pa
def test_unparseable_manifest_gets_unswap_code(tmp_path):
    data = c2pa_sample("signed_C.jpg").read_bytes()
    path = tmp_path / "corrupt.jpg"
    path.write_bytes(CORRUPTIONS["JUMBF superbox header"](data))
    p = read_provenance(path)
    assert p.active_manifest is None
    assert [e.code for e in p.errors] == [UNREADABLE_CODE]


@needs_c2pa
def test_files_without_credentials_to_read_raise(tmp_path):
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "dir.jpg").mkdir()
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 60)  # JPEG start, no manifest
    cases = {"notes.txt": "not a file type", "missing.jpg": "no such file", "dir.jpg": "is a directory",
             "broken.jpg": "cannot be read"}
    for name, reason in cases.items():
        with pytest.raises(ProvenanceError, match=reason) as info:
            read_provenance(tmp_path / name)
        assert info.value.path == str(tmp_path / name)
        assert "\n" not in str(info.value)


def test_missing_extra_names_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "c2pa", None)  # makes `import c2pa` raise ImportError
    with pytest.raises(MissingExtra, match="c2pa-python"):
        read_provenance(tmp_path / "any.jpg")
    code, out, err = run(capsys, "provenance", str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg"))
    assert code == 2 and out == ""
    extra = "reading Content Credentials needs c2pa-python, part of unswap's install: pip install c2pa-python==0.38.1"
    assert err.splitlines() == [f"unswap: {extra}"]


def test_a_scan_without_the_c2pa_reader_reports_no_credentials(monkeypatch):
    """A scan is not stopped by a missing C2PA reader, even for a file that holds a manifest:
    it has none to report, and says why."""
    from unswap.scan import check_provenance

    signed = c2pa_sample("signed_C.jpg")
    monkeypatch.setitem(sys.modules, "c2pa", None)
    found, why = check_provenance(signed)
    assert found is None and why.startswith("reading Content Credentials needs c2pa-python")


@needs_c2pa
def test_cli_json_lines_and_errors(tmp_path, capsys):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n")
    signed, unsigned = c2pa_sample("signed_C.jpg"), c2pa_sample("unsigned_IMG_0003.jpg")
    code, out, err = run(capsys, "provenance", "--json", str(signed), str(bad), str(unsigned))
    assert code == 2  # one input was not readable; the others are still reported
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["path"], r["status"]) for r in rows] == [(str(signed), "valid"), (str(unsigned), "none")]
    assert rows[0]["schema"] == 1 and rows[0]["claim_generator"].startswith("make_test_images/")
    assert err.splitlines() == [f"unswap: {bad}: not a file type the C2PA reader handles"]


@needs_c2pa
def test_cli_text(capsys):
    tampered = c2pa_sample("tampered_XCA.jpg")
    code, out, err = run(capsys, "provenance", str(tampered))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"{tampered}: Content Credentials INVALID (signer not on a trust list)"
    assert any(line.startswith("  assertion.dataHash.mismatch: ") for line in lines)


def _store(actions_by_manifest: dict[str, list[dict]], state: str | None = "Valid", **active) -> dict:
    manifests = {label: {"assertions": [{"label": "c2pa.actions.v2", "data": {"actions": acts}}]}
                 for label, acts in actions_by_manifest.items()}
    first = next(iter(manifests))
    manifests[first].update(active)
    store = {"active_manifest": first, "manifests": manifests, "validation_status": []}
    if state is not None:
        store["validation_state"] = state
    return store


IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def test_ai_generated_from_digital_source_type():
    store = _store({"m1": [{"action": "c2pa.created", "digitalSourceType": IPTC + "trainedAlgorithmicMedia",
                            "softwareAgent": {"name": "Gen", "version": "2.0"}}]},
                   claim_generator_info=[{"name": "Gen", "version": "2.0"}, {"name": "c2pa-rs"}])
    p = summarize(store, "x.jpg")
    assert p.ai_generated is True and p.edited is False
    assert p.actions[0].software_agent == "Gen 2.0"
    assert p.claim_generator == "Gen/2.0 c2pa-rs"
    assert round_trip(p) == p


def test_ai_edit_in_an_ingredient_manifest_counts():
    store = _store({"active": [{"action": "c2pa.opened"}],
                    "parent": [{"action": "c2pa.edited", "digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia"}]})
    p = summarize(store, "x.jpg")
    assert p.ai_generated is True and p.edited is True
    assert [(a.action, a.manifest) for a in p.actions] == [("c2pa.opened", "active"), ("c2pa.edited", "parent")]


@pytest.mark.parametrize("source", ["digitalCapture", "algorithmicMedia", None])
def test_not_ai_generated(source):
    act = {"action": "c2pa.created"} | ({"digitalSourceType": IPTC + source} if source else {})
    assert summarize(_store({"m": [act]}), "x.jpg").ai_generated is False


def test_trust_and_state():
    untrusted = {"code": "signingCredential.untrusted", "url": "u", "explanation": "signing certificate untrusted"}
    mismatch = {"code": "assertion.dataHash.mismatch", "url": "h", "explanation": "hash"}
    trusted = summarize(_store({"m": []}, "Trusted"), "x")
    assert trusted.status == "valid" and trusted.trusted is True
    store = _store({"m": []}, None)
    store["validation_status"] = [untrusted]
    p = summarize(store, "x")
    assert (p.status, p.trusted, p.errors) == ("valid", False, ())  # trust-only failures are not errors
    store["validation_status"] = [untrusted, mismatch, mismatch]
    p = summarize(store, "x")
    assert p.status == "invalid" and [e.code for e in p.errors] == ["assertion.dataHash.mismatch"]
    orphan = summarize({"manifests": {}, "validation_status": [mismatch]}, "x")
    assert orphan.status == "invalid" and orphan.active_manifest is None


def test_status_is_checked():
    with pytest.raises(ValueError, match="status"):
        Provenance("x", "trusted")


@needs_c2pa
@pytest.mark.parametrize(("name", "status"), [("signed_C.jpg", "valid"), ("tampered_XCA.jpg", "invalid"),
                                              ("unsigned_IMG_0003.jpg", None)])
def test_scan_json_carries_the_provenance(capsys, name, status):
    from unswap.report import from_dict, to_dict

    path = c2pa_sample(name)
    code, out, _ = run(capsys, "scan", "--json", str(path))
    r = json.loads(out)
    assert code == 0
    if status is None:
        assert r["provenance"] is None
    else:
        p = r["provenance"]
        assert p["status"] == status and p["signer"] == "C2PA Signer" and p["claim_generator"]
        assert isinstance(p["ai_generated"], bool) and isinstance(p["edited"], bool)
        full = read_provenance(path).to_dict()  # what `unswap provenance` says of the same file
        assert {k: full[k] for k in ("signer", "claim_generator", "ai_generated", "edited")} == {
            k: p[k] for k in ("signer", "claim_generator", "ai_generated", "edited")}
        assert to_dict(from_dict(r))["provenance"] == p
