"""Correlate: check that a Pre-Command says what the user's DUIS request asked, before signing it.

DUIS 5.4 §3.2 (Command Variant 4): for a critical SRV the DCC returns a Pre-Command (the GBCS
command without the user's signature); the user must check it against the request, then sign
it with its digital-signing key (GBCS §4.3.2 General Signing) and send it back (CV 5-7).

`correlate()` decodes the Pre-Command and compares, each as a named field:
- `BusinessOriginatorID` / `BusinessTargetID`: the request's originator and target device
  against the General Signing originator and recipient system titles;
- `use case`: the Pre-Command's message code must name a use case that serves the request's
  Service Reference Variant (`tables.json`, use_case_srv);
- `ExecutionDateTime` and every commanded value of the request body: each must be encoded
  in the Pre-Command's payload, in one of the encodings GBCS uses for its kind (A-XDR big-endian
  integers and COSEM dates for DLMS, little-endian integers, UTC seconds since 2000 and
  minutes since midnight for GBZ/ZCL, DER integers and GeneralizedTime for ASN.1);
- the converse: every value the decoded Pre-Command payload carries must be one the request
  asks for (field `Pre-Command <payload path>`), unless it is structure (object, cluster and
  attribute identifiers, OBIS references, ASN.1 names), a one-octet enumeration or flag, a
  "not specified" wildcard, or a value GBCS fixes or derives (`tables.json`
  `correlation_derived`, e.g. a GBZ issuer event id); request words with a numeric encoding
  (`correlation_words`, e.g. DAILY = 86400 seconds) count as asked for.
Values given as enumeration words (e.g. `START`, `Saturday`) are listed as unchecked.

`sign_pre_command()` signs only the exact octets a passed correlation examined.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import functools
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree

from opendcc.client.mmc.tables import tables
from opendcc.client.parse import ParseAndCorrelateError, ParseError, read_input
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.gbcs import codec, security
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.general_signing import GeneralSigning
from opendcc.gbcs.security import KeyLookup

_GBZ_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
#: The Check recording that the Pre-Command carries no value the request did not ask for.
CONVERSE = "Pre-Command values"
_INT = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")
_DATE = re.compile(r"^(\d{4,5})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$")
_TIME = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_EUI = re.compile(r"^[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){7}$")
_HEXBINARY = re.compile(r"^(?:[0-9A-Fa-f]{2}){2,}$")
#: Enumeration words (GBP, START, Saturday, ...) are not compared: their encoding is per field.
_WORD = re.compile(r"^[A-Za-z][A-Za-z_ ]*$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]{16,}={0,2}$")
#: DUIS 5.4: an ExecutionDateTime of 3000-12-31T00:00:00 cancels a future-dated command; GBCS
#: carries it as a date-time with every field "not specified" (COSEM) or 0xFFFFFFFF (GBZ).
_CANCEL = datetime(3000, 12, 31, tzinfo=UTC)
#: A cancellation as COSEM and ZCL carry it ("not specified"), and as GBCS's ASN.1
#: executionDateTime (9999-12-31T23:59:59Z, as RTDS's CS02b cancellation).
_CANCEL_PATTERNS = [re.escape(b"\xff" * 9 + b"\x80\x00"), re.escape(b"\xff" * 4),
                    re.escape(b"99991231235959Z")]


class CorrelationMismatch(ParseAndCorrelateError):
    """The Pre-Command differs from the DUIS request in `field` (expected from the request)."""

    def __init__(self, field: str, expected: object, found: object, message: str = "") -> None:
        super().__init__(field, message or f"the request says {expected!r}, the Pre-Command {found!r}",
                         expected=expected, found=found)


class NotCorrelated(ParseAndCorrelateError):
    """sign_pre_command() was asked to sign octets no passed correlation has examined."""


@dataclass(frozen=True, slots=True)
class Check:
    """One compared field: what the request says, what the Pre-Command says, whether they agree."""

    field: str
    expected: object
    found: object
    ok: bool


@dataclass(frozen=True)
class Correlation:
    """The outcome of comparing a Pre-Command with its DUIS request."""

    request: DuisRequest
    pre_command: bytes
    message: codec.GbcsMessage = field(repr=False)
    use_case: str
    checks: tuple[Check, ...]
    unchecked: tuple[str, ...]  # request fields given as enumeration words

    @property
    def mismatches(self) -> tuple[CorrelationMismatch, ...]:
        """Every field that differs, as the error naming it."""
        return tuple(CorrelationMismatch(c.field, c.expected, c.found) for c in self.checks if not c.ok)

    @property
    def passed(self) -> bool:
        """True when every compared field agrees."""
        return all(c.ok for c in self.checks)

    @property
    def digest(self) -> bytes:
        """SHA-256 of the Pre-Command octets this correlation examined."""
        return hashlib.sha256(self.pre_command).digest()

    def raise_for_mismatch(self) -> None:
        """Raise the first CorrelationMismatch, if any field differs."""
        found = self.mismatches
        if found:
            raise found[0]


# ---------------------------------------------------------------------------------------------
# reading the inputs

def _request(duis_request: DuisRequest | etree._Element | bytes | str) -> DuisRequest:
    if isinstance(duis_request, DuisRequest):
        return duis_request
    root = duis_request if isinstance(duis_request, etree._Element) else parse_xml(
        duis_request.encode() if isinstance(duis_request, str) else duis_request)
    try:
        return read_request(root)
    except (ValueError, StopIteration) as exc:
        raise ParseError("Request", f"not a DUIS sr:Request: {exc}") from None


def _pre_command(data: bytes | str | etree._Element) -> tuple[bytes, codec.GbcsMessage]:
    gbcs, _ = read_input(data)
    try:
        msg = codec.decode(gbcs)
    except GbcsError as exc:
        raise ParseError(exc.field, f"at offset {exc.offset}: {exc.message}") from None
    if msg.kind is not codec.MessageKind.PRECOMMAND:
        raise ParseError("CRA Flag", f"a {msg.kind.value} is not a Pre-Command (an unsigned Command)")
    return gbcs, msg


def _leaves(el: etree._Element, path: str) -> Iterator[tuple[str, str]]:
    """(path, text) of every element with text under `el`, paths as local names with indexes."""
    seen: dict[str, int] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        seen[name] = seen.get(name, 0) + 1
        index = child.get("index")
        step = f"{name}[{index}]" if index else (f"{name}[{seen[name]}]" if seen[name] > 1 else name)
        sub = f"{path}/{step}"
        if len(child):
            yield from _leaves(child, sub)
        elif child.text and child.text.strip():
            yield sub, child.text.strip()


# ---------------------------------------------------------------------------------------------
# encodings of one request value in the payload octets

def _ints(value: int) -> list[bytes]:
    """Big- and little-endian encodings at every GBCS integer width that holds the value."""
    out: list[bytes] = []
    for width in (1, 2, 3, 4, 5, 6, 8):
        for signed in (False, True):
            try:
                be = value.to_bytes(width, "big", signed=signed)
            except OverflowError:
                continue
            out += [be, be[::-1]]
    return out


def _date_patterns(y: int, m: int, d: int) -> list[bytes]:
    year = 0xFFFF if y >= 10000 else y
    cosem = re.escape(year.to_bytes(2, "big") + bytes((m, d)))
    zcl = re.escape(bytes(((year - 1900) & 0xFF if year != 0xFFFF else 0xFF, m, d)))
    return [cosem, zcl]


def _time_patterns(h: int, mi: int, s: int) -> list[bytes]:
    minutes = (h * 60 + mi).to_bytes(2, "little")
    return [re.escape(bytes((h, mi, s))), re.escape(minutes)]


def _datetime_patterns(when: datetime) -> list[bytes]:
    t = when.astimezone(UTC)
    if t == _CANCEL:
        return _CANCEL_PATTERNS
    cosem = re.escape(t.year.to_bytes(2, "big") + bytes((t.month, t.day))) + b"." + re.escape(
        bytes((t.hour, t.minute, t.second)))
    seconds = int((t - _GBZ_EPOCH).total_seconds())
    out = [cosem, re.escape(t.strftime("%Y%m%d%H%M%SZ").encode())]
    if 0 <= seconds < 2**32:
        out += [re.escape(seconds.to_bytes(4, "little")), re.escape(seconds.to_bytes(4, "big"))]
    return out


def encodings(text: str) -> list[bytes] | None:
    """Regular expressions (over octets) for the encodings of a request value; None: unchecked."""
    if _INT.match(text):
        return [re.escape(b) for b in _ints(int(text))]
    if _DECIMAL.match(text):
        whole, frac = text.lstrip("+").split(".")
        out: list[bytes] = []
        for places in range(len(frac.rstrip("0")), 7):
            scaled = int(whole + frac.ljust(places, "0")[:places]) if places else int(whole)
            out += [re.escape(b) for b in _ints(scaled)]
        return out
    if _DATETIME.match(text):
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return _datetime_patterns(when if when.tzinfo else when.replace(tzinfo=UTC))
    m = _DATE.match(text)
    if m:
        return _date_patterns(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _TIME.match(text)
    if m:
        return _time_patterns(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if _EUI.match(text):
        return [re.escape(bytes.fromhex(text.replace("-", "")))]
    if text.lower() in ("true", "false") or _WORD.match(text):
        return None
    if _HEXBINARY.match(text):
        return [re.escape(bytes.fromhex(text))]
    if _BASE64.match(text) and not text.isalnum():
        try:
            return [re.escape(base64.b64decode("".join(text.split()), validate=True))]
        except binascii.Error:
            pass
    return [re.escape(text.encode("utf-8"))]


def _special(rule: str, text: str, request: DuisRequest) -> list[bytes] | None:
    """Encodings named by `correlation_encodings` in tables.json."""
    if rule == "year-1900" and _INT.match(text):
        year = int(text)
        return [re.escape(b) for b in _ints(year)] + [re.escape(bytes(((year - 1900) & 0xFF,)))]
    if rule.startswith("seconds-after:") and _INT.match(text):
        base = request.body.findtext(f".//{{*}}{rule.split(':', 1)[1]}")
        if base is None:
            return None
        when = datetime.fromisoformat(base.strip().replace("Z", "+00:00"))
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        return _datetime_patterns(when + timedelta(seconds=int(text)))
    return None


def _found(patterns: list[bytes], content: bytes) -> bool:
    return any(re.search(p, content, re.DOTALL) for p in patterns)


# ---------------------------------------------------------------------------------------------
# the converse: values in the Pre-Command that the request does not ask for

#: Keys of the payload codec's JSON view that are structure, not commanded values.
_STRUCTURE = frozenset({
    "@type", "#", "class_id", "instance_id", "attribute_id", "method_id", "access_selector",
    "long_invoke_id_and_priority", "extended_header_control_field", "extended_header_cluster_id",
    "frame_control", "transaction_sequence_number", "command_identifier", "command",
    "attribute_identifier", "data_type", "name", "tag_class", "bits",
})
#: "Not specified" values (0xFFFFFFFE: a GBZ start time meaning "now").
_WILDCARDS = frozenset({0xFFFF, 0xFFFFFFFF, 0xFFFFFFFE, -0x8000, 0x7FFF})


def _payload_values(node: object, path: str = "") -> Iterator[tuple[str, object]]:
    """(path, value) of each leaf of a payload JSON view outside its structural keys."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in _STRUCTURE:
                yield from _payload_values(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _payload_values(value, f"{path}.{i}")
    elif node is not None and not isinstance(node, bool):
        yield path, node


def _is_reference(octets: bytes) -> bool:
    """An OBIS code (6 octets ending 0xFF: a COSEM object reference) or a wildcard pattern."""
    return (len(octets) == 6 and octets[-1] == 0xFF) or set(octets) <= {0x00, 0x80, 0xFF}


def _derived(use_case: str, path: str) -> bool:
    """Whether `correlation_derived` names this payload field (by key, or `UseCase:path glob`)."""
    table = tables().correlation_derived
    if path.rsplit(".", 1)[-1] in table:
        return True
    return any(fnmatch.fnmatchcase(path, pattern) for case, _, pattern in
               (entry.partition(":") for entry in table) if case == use_case and pattern)


@dataclass(frozen=True, slots=True)
class _Asked:
    """The request's values, as the octets of their encodings: literal ones as a set (for
    whole-value lookups), the others (date-times with any weekday) as one expression."""

    literals: frozenset[bytes]
    patterns: re.Pattern[bytes] | None
    whole: tuple[bytes, ...]  # values carried whole (certificates): sub-values are inside
    words: frozenset[int]

    @classmethod
    def of(cls, patterns: list[bytes], whole: list[bytes], words: set[int]) -> _Asked:
        plain = {p: _unescape(p) for p in patterns}
        literals = {lit for lit in plain.values() if lit is not None}
        others = [p for p, lit in plain.items() if lit is None]
        joined = re.compile(b"|".join(b"(?:" + p + b")" for p in others), re.DOTALL) if others else None
        return cls(frozenset(literals), joined, tuple(whole), frozenset(words))

    def has(self, octets: bytes) -> bool:
        """The octets are exactly one of the request's encodings."""
        return octets in self.literals or (self.patterns is not None and self.patterns.fullmatch(octets) is not None)

    def within(self, octets: bytes) -> bool:
        """Some request encoding occurs within the octets, or they occur within a whole value."""
        return (any(lit in octets for lit in self.literals)
                or (self.patterns is not None and self.patterns.search(octets) is not None)
                or any(octets in value for value in self.whole))


_SPECIAL = frozenset(b".^$*+?{}[]|()")
_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)


@functools.lru_cache(maxsize=4096)
def _unescape(pattern: bytes) -> bytes | None:
    """The octets a `re.escape`d pattern stands for; None for a pattern with wildcards."""
    if any(b in _SPECIAL for b in _ESCAPED.sub(b"", pattern)):
        return None
    return _ESCAPED.sub(rb"\1", pattern)


_OID = re.compile(r"^\d+(?:\.\d+)+$")


def _is_asked(value: object, asked: _Asked) -> bool:
    """Whether a payload value is one of the request's values (in some GBCS encoding)."""
    if isinstance(value, int):
        if -128 <= value < 256 or value in _WILDCARDS or value in asked.words:
            return True
        # (and the DER content octets, for integers wider than 8 octets: certificate serials)
        candidates = [*_ints(value), value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)]
        return (any(asked.has(c) for c in candidates)
                or any(c in whole for whole in asked.whole for c in candidates if len(c) > 2))
    if not isinstance(value, str) or _OID.match(value):
        return True  # object identifiers are structure
    if not re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", value):
        text = value.encode("utf-8")  # a visible string: commanded text
        return len(text) < 2 or asked.within(text)
    octets = bytes.fromhex(value)
    if len(octets) < 2 or _is_reference(octets):
        return True
    return asked.within(octets) or any(value.encode() in whole for whole in asked.whole)


def _literal(text: str) -> bytes | None:
    """The octets of a request value carried whole (a certificate, a hex string)."""
    if _HEXBINARY.match(text):
        return bytes.fromhex(text)
    if _BASE64.match(text) and not text.isalnum():
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except binascii.Error:
            return None
    return None


def _converse_checks(msg: codec.GbcsMessage, use_case: str, patterns: list[bytes],
                     literals: list[bytes], words: set[int]) -> list[Check]:
    to_json = getattr(msg.payload, "to_json", None)
    view = to_json() if callable(to_json) else None
    if not isinstance(view, dict):
        return []
    asked = _Asked.of(patterns, literals, words)
    values = [(path, value) for path, value in _payload_values(view) if not _derived(use_case, path)]
    extra = [Check(f"Pre-Command {path}", "a value the request asks for", value, False)
             for path, value in values if not _is_asked(value, asked)]
    return extra or [Check(CONVERSE, "only values the request asks for", f"{len(values)} values", True)]


# ---------------------------------------------------------------------------------------------
# the correlation

def _header_checks(request: DuisRequest, apdu: GeneralSigning, use_case: str) -> list[Check]:
    rid = request.request_id
    allowed = tables().srvs_for(use_case)
    srv = request.service_reference_variant
    required = tables().use_case_requires.get(use_case)
    selected = required is None or request.body.find(f".//{{*}}{required}") is not None
    return [
        Check("BusinessOriginatorID", rid.originator.hyphenated, apdu.originator.hyphenated,
              rid.originator == apdu.originator),
        Check("BusinessTargetID", rid.target.hyphenated, apdu.recipient.hyphenated,
              rid.target == apdu.recipient),
        Check("use case", f"a use case of SRV {srv}" + (f" with {required}" if required else ""),
              use_case, srv in allowed and selected),
    ]


def correlate(duis_request: DuisRequest | etree._Element | bytes | str,
              pre_command: bytes | str | etree._Element, *, check: bool = True) -> Correlation:
    """DUIS §3.2 CV 4: compare a Pre-Command with the request it answers.

    Raises the first CorrelationMismatch (naming its field) unless `check` is False; the
    returned Correlation records every comparison either way.
    """
    request = _request(duis_request)
    octets, msg = _pre_command(pre_command)
    apdu = msg.apdu
    use_case = msg.use_case.code
    checks = _header_checks(request, apdu, use_case)
    unchecked: list[str] = []
    content = apdu.content
    skipped = tables().correlation_unchecked
    special = tables().correlation_encodings
    word_values = tables().correlation_words
    asked: list[bytes] = []
    literals: list[bytes] = []
    words: set[int] = set()
    for path, text in _leaves(request.body, request.body_name):
        if text in word_values:
            words.add(word_values[text])
        name = path.rsplit("/", 1)[-1].split("[", 1)[0]
        if name in skipped:
            patterns = None
        elif name in special:
            patterns = _special(special[name], text, request)
        else:
            patterns = encodings(text)
        if patterns is None:
            unchecked.append(path)
            continue
        asked += patterns
        literal = _literal(text)
        if literal is not None:
            literals.append(literal)
        ok = _found(patterns, content)
        label = "ExecutionDateTime" if name == "ExecutionDateTime" else path
        checks.append(Check(label, text, "present" if ok else "absent", ok))
    checks += _converse_checks(msg, use_case, asked, literals, words)
    result = Correlation(request, octets, msg, use_case, tuple(checks), tuple(unchecked))
    if check:
        result.raise_for_mismatch()
    return result


def sign_pre_command(pre_command: bytes, correlation: Correlation,
                     key: ec.EllipticCurvePrivateKey | KeyLookup) -> bytes:
    """GBCS §4.3.2: the Pre-Command with the user's General Signing signature in its trailer.

    Refuses (NotCorrelated) unless `correlation` passed and examined exactly these octets;
    `key` is the user's digital-signing private key, or a key store holding it.
    """
    octets, _ = read_input(pre_command)
    if not correlation.passed:
        first = correlation.mismatches[0]
        raise NotCorrelated(first.field, "the correlation failed: nothing is signed",
                            expected=first.expected, found=first.found)
    if hashlib.sha256(octets).digest() != correlation.digest:
        raise NotCorrelated("Pre-Command", "these octets are not the ones the correlation examined")
    apdu = correlation.message.apdu
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signed = replace(apdu, signature=security.sign(key, apdu.signed_data()))
    else:
        try:
            signed = codec.sign_apdu(apdu, key)
        except GbcsError as exc:
            raise NotCorrelated(exc.field, exc.message) from None
    return bytes(signed)
