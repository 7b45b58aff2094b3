"""Licence classes: what a licence text allows, read conservatively.

Every collection, and so every ledger item, carries the licence text as it was given plus a
licence class, and the class alone decides whether the item may train a model that is used
commercially. The classes:

| class          | commercial | recognised texts (case, spaces, `-` and `_` do not matter)   |
|----------------|------------|--------------------------------------------------------------|
| public-domain  | yes        | public domain, PD, public domain mark, PDM                   |
| cc0            | yes        | CC0, CC-0, CC zero, Creative Commons Zero                    |
| cc-by          | yes        | CC BY, Creative Commons Attribution                          |
| cc-by-sa       | yes        | CC BY-SA, Creative Commons Attribution-ShareAlike            |
| own-work       | yes        | own work, my own work, my own, mine, original work, self     |
| cc-by-nd       | no         | CC BY-ND (a model trained on it may count as a derivative)   |
| cc-by-nc       | no         | CC BY-NC, ...-NonCommercial                                  |
| cc-by-nc-sa    | no         | CC BY-NC-SA                                                  |
| cc-by-nc-nd    | no         | CC BY-NC-ND                                                  |
| non-commercial | no         | non-commercial, NC, personal use, research only, ...; and    |
|                |            | any text that says non-commercial or NC anywhere             |
| unknown        | no         | everything else                                              |

A version ("4.0"), "International", "Unported" and "licence"/"license" may be added to any of
them ("CC BY-SA 4.0 International"). Only a text that *is* one of these forms clears commercial
use: "public domain in the US only" or "CC BY, except track 3" are `unknown`, because a licence
with conditions needs a person to read it, and so is one asked as a question ("public
domain?"). A text that mentions non-commercial use anywhere is `non-commercial`, whatever else
it says. Being wrong in the cautious direction costs a user a
re-add with a plainer `--licence`; being wrong the other way could cost them a lawsuit.
"""

from __future__ import annotations

import re

PUBLIC_DOMAIN = "public-domain"
CC0 = "cc0"
CC_BY = "cc-by"
CC_BY_SA = "cc-by-sa"
OWN_WORK = "own-work"
CC_BY_ND = "cc-by-nd"
CC_BY_NC = "cc-by-nc"
CC_BY_NC_SA = "cc-by-nc-sa"
CC_BY_NC_ND = "cc-by-nc-nd"
NON_COMMERCIAL = "non-commercial"
UNKNOWN = "unknown"

# licence class -> commercial use allowed
COMMERCIAL_BY_CLASS = {
    PUBLIC_DOMAIN: True,
    CC0: True,
    CC_BY: True,
    CC_BY_SA: True,
    OWN_WORK: True,
    CC_BY_ND: False,
    CC_BY_NC: False,
    CC_BY_NC_SA: False,
    CC_BY_NC_ND: False,
    NON_COMMERCIAL: False,
    UNKNOWN: False,
}
LICENCE_CLASSES = tuple(COMMERCIAL_BY_CLASS)

# Phrases rewritten to the short tokens before the lookup, longest first.
_PHRASES = (
    (r"creative\s*commons", "cc"),
    (r"attribution", "by"),
    (r"non[\s_-]*commercial", "nc"),
    (r"share[\s_-]*alike", "sa"),
    (r"no[\s_-]*deriv(?:ative)?s?", "nd"),
    (r"\bcc[\s_-]*(?:0|zero)\b", "cc0"),
)
# Words that say nothing about the terms.
_FILLER = {"license", "licence", "licensed", "international", "unported", "generic", "version"}
_VERSION = re.compile(r"v?\d+(?:\.\d+)*")

# normalised text -> class
_FORMS = {
    PUBLIC_DOMAIN: ("public-domain", "pd", "pdm", "public-domain-mark", "cc-pdm"),
    CC0: ("cc0", "cc0-public-domain-dedication", "public-domain-dedication"),
    CC_BY: ("cc-by", "by"),
    CC_BY_SA: ("cc-by-sa", "by-sa"),
    OWN_WORK: (
        "own-work", "my-own-work", "my-own", "own", "mine", "original-work", "my-original-work",
        "self", "self-made", "own-composition", "my-own-composition", "my-own-music",
    ),
    CC_BY_ND: ("cc-by-nd", "by-nd"),
    CC_BY_NC: ("cc-by-nc", "by-nc", "cc-nc"),
    CC_BY_NC_SA: ("cc-by-nc-sa", "by-nc-sa"),
    CC_BY_NC_ND: ("cc-by-nc-nd", "by-nc-nd"),
    NON_COMMERCIAL: (
        "nc", "nc-only", "nc-use", "nc-use-only", "personal-use", "personal-use-only",
        "research", "research-only", "research-use-only", "for-research-only",
        "educational-use-only", "education-only",
    ),
}  # fmt: skip
_CLASS_BY_FORM = {form: cls for cls, forms in _FORMS.items() for form in forms}


def normalise_licence(text: str) -> str:
    """The licence text as lower-case tokens joined by `-`, fillers and versions dropped.

    >>> normalise_licence("Creative Commons Attribution-ShareAlike 4.0 International")
    'cc-by-sa'
    """
    text = text.lower()
    for pattern, short in _PHRASES:
        text = re.sub(pattern, f" {short} ", text)
    tokens = [t for t in re.split(r"[^a-z0-9.]+", text) if t.strip(".")]
    tokens = [t.strip(".") for t in tokens]
    return "-".join(t for t in tokens if t not in _FILLER and not _VERSION.fullmatch(t))


def licence_class(text: str) -> str:
    """The licence class of a licence text (one of `LICENCE_CLASSES`), cautiously.

    >>> licence_class("CC BY-NC-SA 4.0"), licence_class("public domain"), licence_class("GPL")
    ('cc-by-nc-sa', 'public-domain', 'unknown')
    """
    key = normalise_licence(text)
    if "nc" not in key.split("-") and "?" in text:  # "public domain?" is a doubt, not a licence
        return UNKNOWN
    if key in _CLASS_BY_FORM:
        return _CLASS_BY_FORM[key]
    if "nc" in key.split("-"):
        return NON_COMMERCIAL
    return UNKNOWN


def commercial_allowed(licence_class_name: str) -> bool:
    """Whether a licence class clears commercial use; an unknown class does not."""
    return COMMERCIAL_BY_CLASS.get(licence_class_name, False)
