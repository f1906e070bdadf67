"""C2PA Content Credentials: who signed a file, whether it still matches, what it says was done.

A side channel beside the detector: a signed manifest can say a picture was made or edited
with generative AI, and a broken one says the file changed after signing. Neither proves a
face is real or swapped; an absent manifest proves nothing at all (most files carry none).

Reading uses ``c2pa-python``, the bindings of the Rust C2PA SDK, part of the core install
(every ``unswap scan`` reports Content Credentials). Reading is offline: remote manifests,
OCSP revocation checks and every other network fetch are switched off, and no trust list is
loaded, so a signer is never "trusted" here; ``status`` says whether the signature and the
hashes hold.
"""

from __future__ import annotations

import functools
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from unswap.errors import FileError, MissingExtra
from unswap.types import PathLike

__all__ = ["Action", "Issue", "Provenance", "ProvenanceError", "has_manifest_store", "read_provenance",
           "summarize"]

SCHEMA_VERSION = 1
STATUSES = ("none", "valid", "invalid")

OFFLINE_SETTINGS = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "core": {"allowed_network_hosts": []},
}
"""c2pa settings: no remote manifest, no OCSP; an empty host list (unlike null) refuses every host."""

TRUST_CODES = frozenset({"signingCredential.untrusted"})
"""Failure codes that only say the signer is not on a trust list: reported as ``trusted``."""

UNREADABLE_CODE = "unswap.manifest.unreadable"
"""unswap's own code (not the C2PA spec's) for a manifest store the c2pa library cannot parse."""

AI_SOURCE_TYPES = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})
"""IPTC digital source types (last URI segment) meaning generative AI made or changed the content.
``algorithmicMedia`` (made by a formula, no training data) is not among them."""

EDIT_ACTIONS = frozenset({
    "c2pa.color_adjustments", "c2pa.cropped", "c2pa.deleted", "c2pa.drawing", "c2pa.dubbed",
    "c2pa.edited", "c2pa.enhanced", "c2pa.filtered", "c2pa.orientation", "c2pa.placed",
    "c2pa.redacted", "c2pa.removed", "c2pa.resized", "c2pa.translated", "c2pa.trimmed",
})
"""C2PA actions that change what is shown; opening, converting, publishing or editing
metadata do not count."""

_MARKER = b"jumdc2pa"  # JUMBF description box of a C2PA manifest store, same in every container


class ProvenanceError(FileError):
    """A file whose Content Credentials cannot be looked for (missing, unreadable, unsupported)."""


@dataclass(frozen=True)
class Issue:
    """One validation failure: a C2PA status code, c2pa's explanation, the JUMBF URI it concerns."""

    code: str
    explanation: str = ""
    url: str | None = None


@dataclass(frozen=True)
class Action:
    """One entry of a ``c2pa.actions`` assertion; ``manifest`` is the label of the manifest holding it.

    ``digital_source_type`` is the IPTC URI as written (e.g. ``.../trainedAlgorithmicMedia``);
    ``when`` is an ISO 8601 time when the manifest gives one.
    """

    action: str
    manifest: str
    digital_source_type: str | None = None
    software_agent: str | None = None
    when: str | None = None

    @property
    def ai(self) -> bool:
        return _short(self.digital_source_type) in AI_SOURCE_TYPES


@dataclass(frozen=True)
class Provenance:
    """The Content Credentials of one file.

    status: "none" (no recognisable C2PA manifest store), "valid" (signature, assertion
    hashes and content hash hold) or "invalid" (a manifest is there but something fails:
    ``errors`` says what). ``trusted`` is True only when the signer chains to a trust
    anchor; offline, with no trust list loaded, it stays False. The signer, claim and
    actions are those of the active manifest, except that ``actions``, ``ai_generated``
    and ``edited`` also cover the ingredient manifests in the store. They are what the
    manifest claims: an invalid manifest's claims cannot be relied on.
    """

    path: str
    status: str
    trusted: bool = False
    active_manifest: str | None = None
    manifest_count: int = 0
    claim_generator: str | None = None
    signer: str | None = None
    issuer: str | None = None
    signed_at: str | None = None
    title: str | None = None
    format: str | None = None
    errors: tuple[Issue, ...] = ()
    actions: tuple[Action, ...] = ()
    ai_generated: bool = False
    edited: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object for one file (one line of ``unswap provenance --json``)."""
        return {"schema": SCHEMA_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Provenance:
        """Read back what ``to_dict`` wrote."""
        d = {k: v for k, v in d.items() if k != "schema"}
        d["errors"] = tuple(Issue(**e) for e in d.get("errors", ()))
        d["actions"] = tuple(Action(**a) for a in d.get("actions", ()))
        return cls(**d)

    def to_text(self) -> str:
        """A few lines for people: the verdict first, then signer, claim, actions, errors."""
        if self.status == "none":
            return f"{self.path}: no Content Credentials"
        head = "valid" if self.status == "valid" else "INVALID"
        if self.active_manifest is None:
            lines = [f"{self.path}: Content Credentials {head} (manifest unreadable)"]
        else:
            trust = "on a trust list" if self.trusted else "not on a trust list"
            lines = [f"{self.path}: Content Credentials {head} (signer {trust})"]
            signed = [f"signed by {self.signer or '?'}", f"certificate issuer {self.issuer}" if self.issuer else "",
                      f"at {self.signed_at}" if self.signed_at else ""]
            lines.append("  " + ", ".join(x for x in signed if x))
            what = [f"claim generator {self.claim_generator or '?'}",
                    ", ".join(x for x in (self.title, self.format) if x), f"{self.manifest_count} manifest(s)"]
            lines.append("  " + "; ".join(x for x in what if x))
            if self.actions:
                lines.append("  actions: " + ", ".join(
                    a.action + (f" ({_short(a.digital_source_type)})" if a.digital_source_type else "")
                    for a in self.actions))
            claims = f"AI-generated or AI-edited: {_yes(self.ai_generated)}; edited: {_yes(self.edited)}"
            lines.append("  " + claims + (" (claims of an invalid manifest)" if self.status == "invalid" else ""))
        lines.extend(f"  {e.code}: {e.explanation}" for e in self.errors)
        return "\n".join(lines)


def read_provenance(path: PathLike) -> Provenance:
    """Read and validate the C2PA manifest store of an image or video, offline.

    Raises ``MissingExtra`` when c2pa-python is not installed and ``ProvenanceError`` when
    the file is missing or of a type the C2PA reader does not handle. A manifest that is
    present but cannot be parsed is no error: it gives status "invalid".
    """
    from unswap.media import readable_file

    c2pa = _c2pa()
    p = readable_file(path, ProvenanceError, allow_empty=True)
    try:
        reader = c2pa.Reader.try_create(str(p), context=_context())
        if reader is None:
            return Provenance(str(path), "none")
        with reader:
            store = json.loads(reader.json())
    except c2pa.C2paError.NotSupported:
        raise ProvenanceError("not a file type the C2PA reader handles", p) from None
    except c2pa.C2paError as err:
        # Damage to the manifest store surfaces as a parse error, not as a validation
        # status; the store's label tells it from a file that is merely broken.
        reason = _reason(err)
        if not has_manifest_store(p):
            raise ProvenanceError(f"cannot be read for Content Credentials ({reason})", p) from None
        return Provenance(str(path), "invalid", errors=(Issue(UNREADABLE_CODE, reason),))
    return summarize(store, str(path))


def summarize(store: dict[str, Any], path: str) -> Provenance:
    """A ``Provenance`` from c2pa's manifest store JSON (``Reader.json()``, parsed)."""
    errors, untrusted = _issues(store.get("validation_status") or [])
    manifests: dict[str, dict] = store.get("manifests") or {}
    label = store.get("active_manifest")
    if label not in manifests:
        return Provenance(path, "invalid" if errors else "none", errors=errors)
    state = store.get("validation_state")  # "Invalid", "Valid" or "Trusted"
    if state is None:
        state = "Invalid" if errors else "Valid"
    m = manifests[label]
    order = [label, *(k for k in manifests if k != label)]
    actions = tuple(a for k in order for a in _actions(manifests[k], k))
    sig = m.get("signature_info") or {}
    return Provenance(
        path=path,
        status="invalid" if state == "Invalid" else "valid",
        trusted=state == "Trusted" and not untrusted,
        active_manifest=label,
        manifest_count=len(manifests),
        claim_generator=_claim_generator(m),
        signer=sig.get("common_name"),
        issuer=sig.get("issuer"),
        signed_at=sig.get("time"),
        title=m.get("title"),
        format=m.get("format"),
        errors=errors,
        actions=actions,
        ai_generated=any(a.ai for a in actions),
        edited=any(a.action in EDIT_ACTIONS for a in actions),
    )


def _issues(status: list[dict]) -> tuple[tuple[Issue, ...], bool]:
    """Failures, deduplicated and without the trust-only codes; and whether one of those was seen."""
    out: dict[tuple[str, str | None], Issue] = {}
    untrusted = False
    for s in status:
        code, url = str(s.get("code", "")), s.get("url")
        if code in TRUST_CODES:
            untrusted = True
        else:
            out.setdefault((code, url), Issue(code, str(s.get("explanation") or ""), url))
    return tuple(out.values()), untrusted


def _actions(manifest: dict, label: str) -> list[Action]:
    out = []
    for assertion in manifest.get("assertions") or []:
        if not str(assertion.get("label", "")).startswith("c2pa.actions"):
            continue
        for a in (assertion.get("data") or {}).get("actions") or []:
            if isinstance(a, dict) and a.get("action"):
                out.append(Action(str(a["action"]), label, a.get("digitalSourceType"),
                                  _agent(a.get("softwareAgent"), " "), a.get("when")))
    return out


def _agent(agent: Any, sep: str) -> str | None:
    """A software agent as text: a plain string, or a claim-v2 map's name and version."""
    if isinstance(agent, dict):
        return sep.join(str(agent[k]) for k in ("name", "version") if agent.get(k)) or None
    return None if agent is None else str(agent)


def _claim_generator(m: dict) -> str | None:
    if m.get("claim_generator"):
        return str(m["claim_generator"])
    parts = [_agent(i, "/") for i in m.get("claim_generator_info") or []]
    return " ".join(p for p in parts if p) or None


def _short(uri: str | None) -> str:
    return "" if uri is None else uri.rstrip("/").rsplit("/", 1)[-1]


def _yes(b: bool) -> str:
    return "yes" if b else "no"


def _reason(err: Exception) -> str:
    """c2pa's message without its leading error-kind tag ("Decoding: ...")."""
    kind, sep, rest = str(err).partition(": ")
    return rest if sep and kind.isidentifier() else str(err)


def _c2pa():
    try:
        import c2pa
    except ImportError:
        raise MissingExtra(None, "reading Content Credentials", "c2pa-python==0.38.1") from None
    return c2pa


@functools.lru_cache(maxsize=1)
def _context():
    return _c2pa().Context.from_dict(OFFLINE_SETTINGS)


def has_manifest_store(p: Path, chunk: int = 1 << 20) -> bool:
    """Whether the bytes hold a C2PA manifest store's JUMBF label, however broken the rest."""
    tail = b""
    with open(p, "rb") as f:
        while block := f.read(chunk):
            if _MARKER in tail + block:
                return True
            tail = block[-(len(_MARKER) - 1):]
    return False
