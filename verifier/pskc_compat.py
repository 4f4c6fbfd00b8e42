"""PSKC files as the common tools write them, made into what RFC 6030 (and the ``pskc`` package) expects.

Untrusted XML is parsed here with defusedxml, which refuses any DTD: no entity expansion (billion laughs), no
external entity, no network. The document handed on to ``pskc`` is re-serialised from that tree, so it holds no
DTD either. Then what others write differently from the RFC is brought back to it:

- element and attribute names in any case (privacyIDEA 3.14 writes ``<keycontainer>``, ``<suite>``, ``id=``);
- the hash algorithm as the ``hashalgo`` attribute of ``<Suite>`` (privacyIDEA) as well as its text;
- a TimeDrift written as a decimal number: privacyIDEA writes its ``timeShift`` there, in seconds (``-8.0``),
  where the RFC counts steps (an integer); it is turned into the nearest whole number of steps.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405  (building and writing only; parsing is defusedxml's)

from verifier.errors import ImportFileError

#: the largest file read: about 110,000 keys as Jeton and privacyIDEA write them (1.2 kB each); reading the largest
#: holds about 2 GB of memory for a moment (the whole tree, then pskc's objects)
MAX_BYTES = 128 * 1024 * 1024
PSKC_NS = "urn:ietf:params:xml:ns:keyprov:pskc"

_ELEMENTS = """
KeyContainer EncryptionKey MACMethod MACKey MACKeyReference KeyPackage DeviceInfo Manufacturer SerialNo Model IssueNo
DeviceBinding StartDate ExpiryDate UserId CryptoModuleInfo Id Key Issuer AlgorithmParameters Suite ChallengeFormat
ResponseFormat KeyProfileId KeyReference FriendlyName Data Secret Counter Time TimeInterval TimeDrift PlainValue
EncryptedValue ValueMAC Policy PINPolicy KeyUsage NumberOfTransactions Extensions Signature
EncryptionMethod CipherData CipherValue CipherReference KeySize OAEPparams
DerivedKey KeyDerivationMethod MasterKeyName DerivedKeyName ReferenceList DataReference KeyName KeyInfo X509Data
X509Certificate PBKDF2-params Salt Specified OtherSource IterationCount KeyLength PRF
"""
_ATTRIBUTES = """
Version Id Algorithm Length Encoding CheckDigits Min Max Type URI Recipient PINKeyId PINUsageMode MaxFailedAttempts
MinLength MaxLength PINEncoding
"""
_CANONICAL_TAGS = {name.lower(): name for name in _ELEMENTS.split()}
_CANONICAL_ATTRIBUTES = {name.lower(): name for name in _ATTRIBUTES.split()}


def _unreadable(path: object, why: str) -> ImportFileError:
    return ImportFileError(f"{path}: not a readable PSKC file ({why})",
                           french=f"{path} : fichier PSKC illisible ({why})")


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def parse_untrusted(data: bytes, path: object) -> ET.Element:
    """The root of an untrusted XML document; an ``ImportFileError`` for anything else (DTD, entity, bad XML)."""
    import defusedxml.ElementTree as safe_et
    from defusedxml import DefusedXmlException

    if len(data) > MAX_BYTES:
        raise ImportFileError(f"{path}: file too large (at most {MAX_BYTES // 1024 // 1024} MB)",
                              french=f"{path} : fichier trop volumineux ({MAX_BYTES // 1024 // 1024} Mo au plus)")
    try:
        return safe_et.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise ImportFileError(f"{path}: the XML declares a DTD or entities, refused",
                              french=f"{path} : le XML déclare une DTD ou des entités : refusé") from None
    except (ET.ParseError, ValueError, LookupError) as exc:  # LookupError: an unknown encoding declared
        raise _unreadable(path, f"XML mal formé : {exc.__class__.__name__}") from None


def _period(data: ET.Element) -> int:
    for child in data:
        if _split(child.tag)[1] == "TimeInterval":
            for value in child:
                if _split(value.tag)[1] == "PlainValue" and (value.text or "").strip().isdigit():
                    return int(value.text.strip()) or 30
    return 30


def _drift_in_steps(text: str, period: int, path: object) -> str:
    text = text.strip()
    try:
        return str(int(text))
    except ValueError:
        pass
    try:
        seconds = float(text)
    except ValueError:
        raise _unreadable(path, f"TimeDrift {text[:20]!r} n'est pas un nombre") from None
    if seconds != seconds or abs(seconds) > 10**9:  # NaN, inf, absurd
        raise _unreadable(path, f"TimeDrift {text[:20]!r} hors limites")
    return str(round(seconds / period))


def normalise(root: ET.Element, path: object) -> bytes:
    """The document of ``root`` with RFC 6030's names and forms, as bytes for the ``pskc`` package."""
    return ET.tostring(normalised(root, path), encoding="utf-8", xml_declaration=True)


def normalised(root: ET.Element, path: object) -> ET.Element:
    """``root`` itself, changed in place to RFC 6030's names and forms (the tree ``pskc`` parses)."""
    renamed: dict[str, tuple[str, str]] = {}  # tag -> (canonical tag, local name): a file repeats a few tags
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        found = renamed.get(element.tag)
        if found is None:
            namespace, local = _split(element.tag)
            local = _CANONICAL_TAGS.get(local.lower(), local)
            found = renamed[element.tag] = (f"{{{namespace}}}{local}" if namespace else local, local)
        element.tag, local = found
        for name in list(element.attrib) if element.attrib else ():
            canonical = _CANONICAL_ATTRIBUTES.get(name.lower())
            if canonical and canonical != name:
                element.attrib[canonical] = element.attrib.pop(name)
        if local == "Suite":
            algo = next((element.attrib.pop(n) for n in list(element.attrib) if n.lower() == "hashalgo"), None)
            if algo and not (element.text or "").strip():
                element.text = algo
    if _split(root.tag) != (PSKC_NS, "KeyContainer"):
        raise _unreadable(path, "pas de KeyContainer PSKC")
    for data in root.iter(f"{{{PSKC_NS}}}Data"):
        period = _period(data)
        for drift in data.iter(f"{{{PSKC_NS}}}TimeDrift"):
            for value in drift.iter(f"{{{PSKC_NS}}}PlainValue"):
                value.text = _drift_in_steps(value.text or "", period, path)
    return root
