"""Common Dutch words read aloud by the simulated participants.

Concrete, frequent words in the spirit of the dataset's stimuli (Verwoert et al. 2022 drew
theirs from the IFA corpus). A few carry diacritics (``één``, ``café``, ``privé``, ``ruïne``)
so that every stage is exercised on non-ASCII text; they sit early in the list because
subjects read the first ``n_words``.
"""

WORDS = (
    "huis", "boom", "fiets", "water", "één", "brood", "kaas", "melk", "appel", "tafel",
    "stoel", "deur", "raam", "café", "lamp", "klok", "boek", "brief", "school", "kerk",
    "winkel", "markt", "straat", "privé", "stad", "dorp", "land", "zee", "strand", "bos",
    "veld", "berg", "rivier", "brug", "haven", "ruïne", "schip", "auto", "trein", "hond",
    "kat", "paard", "koe", "varken", "schaap", "vogel", "vis", "muis", "konijn", "eend",
    "zon", "maan", "ster", "wolk", "regen", "sneeuw", "wind", "storm", "hemel", "vuur",
    "steen", "zand", "bloem", "gras", "blad", "tak", "wortel", "hand", "voet", "hoofd",
    "oog", "neus", "mond", "hart", "arm", "vinger", "moeder", "vader", "zuster", "broer",
    "kind", "vriend", "koning", "dokter", "bakker", "boer", "leraar", "zomer", "winter", "lente",
    "herfst", "morgen", "avond", "nacht", "week", "jaar", "muziek", "liedje", "spel", "bal",
    "feest", "cadeau", "taart", "koffie", "thee", "soep", "suiker", "zout", "rood", "blauw",
    "groen", "geel", "zwart", "twee", "drie", "vier", "vijf", "kerstboom", "vliegtuig", "olifant",
)
