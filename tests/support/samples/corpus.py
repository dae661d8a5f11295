"""Built-in body text for the "scanned" pages: academic prose in English, Portuguese, Spanish.

Written for this project (no third-party text). The paragraphs deliberately contain the words
real SciELO scans get wrong ("came", "close", "clinics", "Maipú", words with ç, ã, ñ, é) so that
damage and re-OCR have something realistic to work on.
"""

from __future__ import annotations

CORPUS: dict[str, tuple[str, ...]] = {
    "en": (
        "The industrial cordons came into being in the middle of 1972, when workers from the "
        "factories along the road between Maipú and Cerrillos decided to coordinate their "
        "actions. They were close to one another, shared the same transport and the same "
        "clinics, and soon found that a common assembly could answer the lockouts faster than "
        "any single union.",
        "Most of the people we interviewed remembered those months as a time of long meetings "
        "and little sleep. A textile worker recalled that the women of her section organised "
        "the canteen, kept the accounts and, when the owners closed the gates, took turns "
        "guarding the looms so that nobody could remove the machines at night.",
        "The relationship between the cordons and the government was never simple. Officials "
        "of the Popular Unity coalition welcomed the support of the organised workers, yet they "
        "feared that the occupation of small and medium firms would alienate the middle classes "
        "whose votes the coalition still needed in the coming elections.",
        "Historians have often described this period through the speeches of its leaders. The "
        "testimonies collected here suggest a different approach: the daily work of committees, "
        "the circulation of bulletins, the negotiations with suppliers and the small decisions "
        "through which ordinary people learned to run a plant on their own.",
        "When the strike of October began, the cordons kept the city supplied with bread, fuel "
        "and medicine. Lorries were requisitioned, distribution points were opened in the "
        "neighbourhoods, and volunteers from the universities joined the brigades that worked "
        "through the night to keep production going.",
    ),
    "pt": (
        "A formação dos cordões industriais aconteceu em meados de 1972, quando trabalhadores "
        "das fábricas situadas entre Maipú e Cerrillos decidiram coordenar suas ações. Estavam "
        "próximos uns dos outros, compartilhavam o mesmo transporte e as mesmas clínicas, e logo "
        "perceberam que uma assembleia comum respondia aos fechamentos patronais mais depressa "
        "do que qualquer sindicato isolado.",
        "A análise das políticas públicas de saúde exige atenção às condições históricas em que "
        "foram concebidas. No Brasil, a criação do Sistema Único de Saúde resultou de um longo "
        "processo de mobilização, no qual movimentos sociais, universidades e gestores municipais "
        "disputaram a definição do que seria a atenção básica.",
        "As entrevistas realizadas com agentes comunitários revelam uma percepção ambígua do "
        "próprio trabalho. Por um lado, reconhecem a importância da visita domiciliar e do "
        "vínculo com as famílias; por outro, queixam-se da sobrecarga de relatórios e da falta "
        "de reconhecimento por parte das coordenações regionais.",
        "Convém lembrar que a expansão territorial das cidades médias não se deu de maneira "
        "homogênea. Nos bairros periféricos, a ocupação precedeu a chegada dos serviços de "
        "saneamento, e a população organizou associações de moradores para negociar com a "
        "prefeitura a instalação de creches, escolas e postos de saúde.",
        "Essa trajetória ajuda a compreender por que as reivindicações locais ganharam dimensão "
        "nacional. A articulação entre pesquisadores e lideranças populares produziu diagnósticos "
        "próprios, publicados em boletins e cadernos de formação que circularam amplamente nas "
        "décadas de 1970 e 1980.",
    ),
    "es": (
        "Los cordones industriales surgieron a mediados de 1972, cuando los trabajadores de las "
        "fábricas ubicadas entre Maipú y Cerrillos decidieron coordinar sus acciones. Estaban "
        "cerca unos de otros, compartían el mismo transporte y las mismas clínicas, y pronto "
        "comprendieron que una asamblea común respondía a los cierres patronales con más rapidez "
        "que cualquier sindicato aislado.",
        "La mayoría de las personas entrevistadas recordaba aquellos meses como una época de "
        "reuniones interminables y pocas horas de sueño. Una obrera textil contó que las mujeres "
        "de su sección organizaron el comedor, llevaron las cuentas y, cuando los dueños "
        "cerraron los portones, se turnaron para vigilar los telares durante la noche.",
        "La relación entre los cordones y el gobierno nunca fue sencilla. Los funcionarios de la "
        "Unidad Popular valoraban el apoyo de los trabajadores organizados, pero temían que la "
        "ocupación de pequeñas y medianas empresas alejara a las capas medias cuyo voto la "
        "coalición todavía necesitaba en las próximas elecciones.",
        "Con frecuencia, los historiadores han descrito este periodo a través de los discursos "
        "de sus dirigentes. Los testimonios reunidos aquí sugieren otra aproximación: el trabajo "
        "cotidiano de los comités, la circulación de boletines, las negociaciones con los "
        "proveedores y las pequeñas decisiones con que la gente común aprendió a dirigir una "
        "planta por su cuenta.",
        "Cuando comenzó el paro de octubre, los cordones mantuvieron abastecida la ciudad de pan, "
        "combustible y medicamentos. Se requisaron camiones, se abrieron puntos de distribución "
        "en los barrios y voluntarios de las universidades se sumaron a las brigadas que "
        "trabajaban de noche para sostener la producción.",
    ),
}


def page_text(language: str, page_index: int, seed: int, paragraphs: int = 2) -> str:
    """The body text of the ``page_index``-th scanned page: ``paragraphs`` paragraphs of the
    language's corpus, chosen deterministically from ``seed`` so different seeds give different
    pages. Paragraphs are separated by a blank line."""
    try:
        corpus = CORPUS[language]
    except KeyError:
        raise ValueError(f"no sample corpus for language {language!r}; use en, pt or es") from None
    start = (seed + page_index * paragraphs) % len(corpus)
    chosen = [corpus[(start + i) % len(corpus)] for i in range(paragraphs)]
    return "\n\n".join(chosen)
