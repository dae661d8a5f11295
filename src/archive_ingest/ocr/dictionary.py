"""Word lists for the dictionary-ratio signal, read from Debian's hunspell dictionaries.

No hunspell binding: a ``.dic`` file is a list of stems with affix flags, and the ``.aff``
file says which suffixes/prefixes each flag allows. Looking a word up strips at most one
suffix and one prefix (hunspell's single-level rules, with their conditions), which covers
plurals, verb endings and gender forms well enough to tell words from OCR debris. Words are
compared lower-cased (we judge OCR output, not spelling or capitalisation).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

DICTIONARY_DIRS: tuple[Path, ...] = (
    Path("/usr/share/hunspell"),
    Path("/usr/share/myspell/dicts"),
    Path("/usr/share/myspell"),
)

# Preferred hunspell locale per ISO 639-1 language; other ``<lang>_*`` files are a fallback.
PREFERRED_LOCALES: dict[str, tuple[str, ...]] = {
    "en": ("en_US", "en_GB"),
    "pt": ("pt_BR", "pt_PT"),
    "es": ("es_ES", "es_MX", "es_AR"),
    "fr": ("fr_FR", "fr"),
    "de": ("de_DE", "de_DE_frami"),
    "it": ("it_IT",),
    "ca": ("ca", "ca_ES"),
    "gl": ("gl_ES", "gl"),
}


@dataclass(frozen=True)
class _Affix:
    flag: str
    strip: str
    add: str
    condition: re.Pattern[str] | None
    cross: bool


@dataclass
class HunspellWords:
    """A hunspell dictionary reduced to "is this a word?" (``word in dictionary``)."""

    name: str
    words: dict[str, str]  # lower-cased stem -> its flags, one character per flag
    suffixes: dict[str, list[_Affix]] = field(default_factory=dict)  # keyed by added text
    prefixes: dict[str, list[_Affix]] = field(default_factory=dict)
    excluded_flags: str = ""  # FORBIDDENWORD, NEEDAFFIX, ONLYINCOMPOUND

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str) or not word:
            return False
        w = word.lower().replace("’", "'")
        flags = self.words.get(w)
        if flags is not None and not any(f in flags for f in self.excluded_flags):
            return True
        return self._suffixed(w, require_cross=False) or self._prefixed(w)

    def _stem_ok(self, stem: str, affix: _Affix, also: str = "") -> bool:
        flags = self.words.get(stem)
        if flags is None or affix.flag not in flags or (also and also not in flags):
            return False
        if any(f in flags for f in self.excluded_flags if f not in (affix.flag, also)):
            # forbidden stems stay forbidden; NEEDAFFIX is satisfied by the affix itself
            forbidden = self.excluded_flags[:1]
            if forbidden and forbidden in flags:
                return False
        return affix.condition is None or bool(affix.condition.search(stem))

    def _suffixed(self, w: str, *, require_cross: bool, prefix_flag: str = "") -> bool:
        for cut in range(0, len(w)):
            added = w[len(w) - cut :] if cut else ""
            for affix in self.suffixes.get(added, ()):
                if require_cross and not affix.cross:
                    continue
                stem = w[: len(w) - cut] + affix.strip
                if stem and self._stem_ok(stem, affix, prefix_flag):
                    return True
        return False

    def _prefixed(self, w: str) -> bool:
        for cut in range(1, len(w)):
            for affix in self.prefixes.get(w[:cut], ()):
                rest = affix.strip + w[cut:]
                if self._stem_ok(rest, affix):
                    return True
                if affix.cross and self._suffixed(rest, require_cross=True, prefix_flag=affix.flag):
                    return True
        return False


class Lexicon:
    """Several dictionaries at once (a page may mix languages): a word is known if any knows it."""

    def __init__(self, dictionaries: Sequence[HunspellWords]):
        self.dictionaries = tuple(dictionaries)

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dictionaries]

    def __bool__(self) -> bool:
        return bool(self.dictionaries)

    def known(self, word: str) -> bool:
        return any(word in d for d in self.dictionaries)


def find_dictionary(iso639_1: str, dirs: Iterable[Path] = DICTIONARY_DIRS) -> Path | None:
    """The ``.dic`` file for a language, preferring the usual locale (pt -> pt_BR)."""
    dirs = [d for d in dirs if d.is_dir()]
    for locale in PREFERRED_LOCALES.get(iso639_1, ()):
        for d in dirs:
            candidate = d / f"{locale}.dic"
            if candidate.is_file() and candidate.with_suffix(".aff").is_file():
                return candidate
    for d in dirs:
        for candidate in sorted(d.glob(f"{iso639_1}_*.dic")) + sorted(d.glob(f"{iso639_1}.dic")):
            if candidate.with_suffix(".aff").is_file():
                return candidate
    return None


@lru_cache(maxsize=8)
def load_dictionary(dic_path: Path) -> HunspellWords:
    """Parse a hunspell ``.dic``/``.aff`` pair (cached: the Portuguese one has 300k stems)."""
    aff = _parse_aff(dic_path.with_suffix(".aff"))
    words: dict[str, str] = {}
    with dic_path.open(encoding=aff.encoding, errors="replace") as fh:
        first = True
        for line in fh:
            line = line.strip().lstrip("\ufeff")
            if first:
                first = False
                if line.isdigit():
                    continue  # approximate word count
            if not line or line.startswith("#") or line.startswith("\t"):
                continue
            entry = line.split()[0]
            word, flags = _split_entry(entry)
            if not word:
                continue
            normalised = aff.decode_flags(flags)
            key = word.lower()
            words[key] = words.get(key, "") + normalised
    return HunspellWords(
        name=dic_path.stem,
        words=words,
        suffixes=aff.suffixes,
        prefixes=aff.prefixes,
        excluded_flags="".join(
            aff.decode_flags(f) for f in (aff.forbidden, aff.needaffix, aff.onlyincompound) if f
        ),
    )


def _split_entry(entry: str) -> tuple[str, str]:
    """``word/FLAGS`` with ``\\/`` allowed inside the word."""
    i = 0
    while True:
        i = entry.find("/", i)
        if i < 0:
            return entry.replace("\\/", "/"), ""
        if i > 0 and entry[i - 1] == "\\":
            i += 1
            continue
        return entry[:i].replace("\\/", "/"), entry[i + 1 :]


@dataclass
class _Aff:
    encoding: str = "iso-8859-1"
    flag_mode: str = "char"  # char | long | num | UTF-8
    aliases: list[str] = field(default_factory=list)  # AF table (flag vectors), 1-based
    forbidden: str = ""
    needaffix: str = ""
    onlyincompound: str = ""
    suffixes: dict[str, list[_Affix]] = field(default_factory=dict)
    prefixes: dict[str, list[_Affix]] = field(default_factory=dict)
    _codes: dict[str, str] = field(default_factory=dict)

    def _code(self, flag: str) -> str:
        if self.flag_mode in ("char", "UTF-8"):
            return flag
        if flag not in self._codes:  # long/num flags become one private-use character each
            self._codes[flag] = chr(0xF0000 + len(self._codes))
        return self._codes[flag]

    def decode_flags(self, raw: str) -> str:
        if not raw:
            return ""
        if self.aliases and raw.isdigit():
            index = int(raw)
            raw = self.aliases[index - 1] if 0 < index <= len(self.aliases) else ""
        if self.flag_mode == "long":
            parts = [raw[i : i + 2] for i in range(0, len(raw), 2)]
        elif self.flag_mode == "num":
            parts = [p for p in raw.split(",") if p]
        else:
            parts = list(raw)
        return "".join(self._code(p) for p in parts)


def _parse_aff(path: Path) -> _Aff:
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    aff = _Aff()
    match = re.search(rb"^SET\s+(\S+)", raw, re.MULTILINE)
    if match:
        aff.encoding = match.group(1).decode("ascii", "replace")
        if aff.encoding.upper() in ("UTF8", "UTF-8"):
            aff.encoding = "utf-8"
    text = raw.decode(aff.encoding, errors="replace")
    headers: dict[tuple[str, str], bool] = {}
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        key = fields[0].lstrip("\ufeff")
        if key == "FLAG" and len(fields) > 1:
            aff.flag_mode = fields[1]
        elif key == "AF" and len(fields) > 1 and not fields[1].isdigit():
            aff.aliases.append(fields[1])
        elif key == "FORBIDDENWORD" and len(fields) > 1:
            aff.forbidden = fields[1]
        elif key == "NEEDAFFIX" and len(fields) > 1:
            aff.needaffix = fields[1]
        elif key == "ONLYINCOMPOUND" and len(fields) > 1:
            aff.onlyincompound = fields[1]
        elif key in ("SFX", "PFX") and len(fields) >= 4:
            flag = fields[1]
            if (key, flag) not in headers and fields[2] in ("Y", "N") and fields[3].isdigit():
                headers[(key, flag)] = fields[2] == "Y"
                continue
            strip = "" if fields[2] == "0" else fields[2]
            add = fields[3].split("/")[0]
            add = "" if add == "0" else add
            condition = fields[4] if len(fields) > 4 else "."
            affix = _Affix(
                flag=aff._code(flag),
                strip=strip.lower(),
                add=add.lower(),
                condition=_condition(condition, suffix=key == "SFX"),
                cross=headers.get((key, flag), False),
            )
            table = aff.suffixes if key == "SFX" else aff.prefixes
            table.setdefault(affix.add, []).append(affix)
    return aff


@lru_cache(maxsize=4096)
def _condition(condition: str, *, suffix: bool) -> re.Pattern[str] | None:
    """A hunspell affix condition ("[^aeiou]y", ".") as a regex on the end (or start)."""
    if condition == ".":
        return None
    out = []
    i = 0
    while i < len(condition):
        ch = condition[i]
        if ch == "[":
            j = condition.find("]", i)
            if j < 0:
                return None  # malformed: accept any stem
            body = condition[i + 1 : j]
            neg = body.startswith("^")
            chars = re.escape(body[1:] if neg else body)
            out.append(f"[{'^' if neg else ''}{chars.lower()}]")
            i = j + 1
            continue
        out.append("." if ch == "." else re.escape(ch.lower()))
        i += 1
    pattern = "".join(out)
    return re.compile(f"(?:{pattern})$" if suffix else f"^(?:{pattern})")
