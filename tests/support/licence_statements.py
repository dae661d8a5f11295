"""SciELO Books' licence statement of a chapter PDF's first page, verbatim, in its three
languages, for CC BY-NC-SA 3.0 (the licence of most SciELO Books chapters)."""

from __future__ import annotations

BY_NC_SA_30 = "https://creativecommons.org/licenses/by-nc-sa/3.0/"
EN = (
    "All the contents of this chapter, except where otherwise noted, is licensed under a "
    "Creative Commons Attribution-Non Commercial-ShareAlike 3.0 Unported."
)
PT = (
    "Todo o conteúdo deste capítulo, exceto quando houver ressalva, é publicado sob a licença "
    "Creative Commons Atribuição - Uso Não Comercial - Partilha nos Mesmos Termos 3.0 Não "
    "adaptada."
)
ES = (
    "Todo el contenido de este capítulo, excepto donde se indique lo contrario, está bajo "
    "licencia de la licencia Creative Commons Reconocimento-NoComercial-CompartirIgual 3.0 "
    "Unported."
)
