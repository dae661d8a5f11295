"""Language codes: the records write ISO 639-3 everywhere (decided, see docs/RECORDS.md).

Why 639-3: OAI-PMH harvesters of open-access repositories (DRIVER / OpenAIRE guidelines)
ask for ISO 639-3 in ``dc:language``, DCMI has an encoding scheme for it
(``dcterms:ISO639-3``), and it covers the indigenous languages of Latin America that have
no two-letter code. ``xml:lang`` attributes are BCP 47 tags instead, which use the
*shortest* ISO 639 code (``pt``, not ``por``): :func:`bcp47` gives that form.

The publisher usually gives ISO 639-1 (``pt``), sometimes a tag (``pt-BR``), sometimes a
639-2/B code (``fre``). The table below maps the 184 ISO 639-1 codes and the 20 639-2/B
codes to 639-3; it was generated once from the ISO 639 tables of Debian's iso-codes 4.15
(``/usr/share/iso-codes/json/iso_639-3.json``, ``iso_639-2.json``) — the code pairs are
ISO/SIL facts, kept here so the mapping does not depend on what a machine has installed.
A three-letter code that is not a 639-2/B code is taken as 639-3 as given (syntax check
only: the full 7,900-code list is not shipped).
"""

from __future__ import annotations

import re

from archive_ingest.errors import PackageError

_PAIRS_639_1 = """
    aa:aar ab:abk ae:ave af:afr ak:aka am:amh an:arg ar:ara as:asm av:ava ay:aym az:aze
    ba:bak be:bel bg:bul bi:bis bm:bam bn:ben bo:bod br:bre bs:bos ca:cat ce:che ch:cha
    co:cos cr:cre cs:ces cu:chu cv:chv cy:cym da:dan de:deu dv:div dz:dzo ee:ewe el:ell
    en:eng eo:epo es:spa et:est eu:eus fa:fas ff:ful fi:fin fj:fij fo:fao fr:fra fy:fry
    ga:gle gd:gla gl:glg gn:grn gu:guj gv:glv ha:hau he:heb hi:hin ho:hmo hr:hrv ht:hat
    hu:hun hy:hye hz:her ia:ina id:ind ie:ile ig:ibo ii:iii ik:ipk io:ido is:isl it:ita
    iu:iku ja:jpn jv:jav ka:kat kg:kon ki:kik kj:kua kk:kaz kl:kal km:khm kn:kan ko:kor
    kr:kau ks:kas ku:kur kv:kom kw:cor ky:kir la:lat lb:ltz lg:lug li:lim ln:lin lo:lao
    lt:lit lu:lub lv:lav mg:mlg mh:mah mi:mri mk:mkd ml:mal mn:mon mr:mar ms:msa mt:mlt
    my:mya na:nau nb:nob nd:nde ne:nep ng:ndo nl:nld nn:nno no:nor nr:nbl nv:nav ny:nya
    oc:oci oj:oji om:orm or:ori os:oss pa:pan pi:pli pl:pol ps:pus pt:por qu:que rm:roh
    rn:run ro:ron ru:rus rw:kin sa:san sc:srd sd:snd se:sme sg:sag sh:hbs si:sin sk:slk
    sl:slv sm:smo sn:sna so:som sq:sqi sr:srp ss:ssw st:sot su:sun sv:swe sw:swa ta:tam
    te:tel tg:tgk th:tha ti:tir tk:tuk tl:tgl tn:tsn to:ton tr:tur ts:tso tt:tat tw:twi
    ty:tah ug:uig uk:ukr ur:urd uz:uzb ve:ven vi:vie vo:vol wa:wln wo:wol xh:xho yi:yid
    yo:yor za:zha zh:zho zu:zul
"""
_PAIRS_639_2B = """
    alb:sqi arm:hye baq:eus bur:mya chi:zho cze:ces dut:nld fre:fra geo:kat ger:deu gre:ell
    ice:isl mac:mkd mao:mri may:msa per:fas rum:ron slo:slk tib:bod wel:cym
"""


def _table(text: str) -> dict[str, str]:
    return dict(pair.split(":") for pair in text.split())


ISO639_1_TO_3: dict[str, str] = _table(_PAIRS_639_1)
ISO639_2B_TO_3: dict[str, str] = _table(_PAIRS_639_2B)
ISO639_3_TO_1: dict[str, str] = {three: two for two, three in ISO639_1_TO_3.items()}
_TAG_RE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def to_iso639_3(code: str) -> str:
    """The ISO 639-3 code for a publisher's language code or tag; refuse what is not one."""
    match = _TAG_RE.match(code.strip())
    if not match:
        raise PackageError(f"not a language code: {code!r} (expected ISO 639 such as pt or por)")
    primary = match.group(1).lower()
    if len(primary) == 2:
        if primary not in ISO639_1_TO_3:
            raise PackageError(f"unknown ISO 639-1 language code {primary!r} in {code!r}")
        return ISO639_1_TO_3[primary]
    return ISO639_2B_TO_3.get(primary, primary)


def xml_lang(code: str | None) -> str | None:
    """``xml:lang`` for a publisher's language key; ``None`` when it is no language code."""
    if not code:
        return None
    try:
        return bcp47(code)
    except PackageError:
        return None


def bcp47(code: str) -> str:
    """The shortest ISO 639 form of a language, as ``xml:lang`` wants it (``por`` -> ``pt``)."""
    three = to_iso639_3(code)
    return ISO639_3_TO_1.get(three, three)
