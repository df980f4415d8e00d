"""Linguistic cue features shared by training and serving.

:class:`CueFeatures` is a stateless text transformer that follows the scikit-learn estimator contract
(``__init__`` stores parameters, ``fit`` returns ``self``). It reads text already passed through
:func:`overclaim.masking.mask_products`.
"""
from __future__ import annotations

import re

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from overclaim.citations import CUE_PATTERNS, find_cues
from overclaim.first_words import FirstWordIndex
from overclaim.masking import MASK

def _words(*phrases: str) -> str:
    return r"\b(?:" + "|".join(phrases) + r")\b"


# Each cue is a pattern over the masked text; its feature is the number of matches, capped.
CUES: dict[str, str] = {
    "hedge_modal": _words(
        "may", "might", "could", "possibly", "perhaps", "potential(?:ly)?", "appears? to", "seems? to", "likely",
        "suggests?", "suggested", "is thought to", "are thought to", "is believed to", "tends? to", "probably",
    ),
    "evidence_limit": _words(
        "preliminary", "early (?:research|evidence|studies|data|trials?|findings|results)", "limited", "small",
        "pilot", "in (?:mice|rats|animals|test tubes?|cells|vitro|the lab)", "animal (?:studies|study|research)",
        "mixed", "inconclusive", "not conclusive", "(?:more|further|additional) (?:research|studies|trials)",
        "needed", "self-reported", "observational", "not (?:yet )?proven", "unclear", "modest(?:ly)?",
        "anecdotal", "not statistically significant", "weak", "uncertain",
    ),
    "scope_limit": _words(
        "some (?:people|users|individuals|adults|patients|customers|folks|studies|evidence)", "for some",
        "occasional", "mild(?:ly)?", "in certain", "results (?:may )?vary", "ymmv", "your mileage",
        "in my experience", "for me", "a bit", "somewhat", "slightly", "a little",
    ),
    "booster": _words(
        "proven", "guaranteed?", "miracle", "game[- ]changer", "powerful", "best", "0+%", "definitely",
        "certainly", "undeniabl[ey]", "clearly", "it is clear", "evident", "always", "instantly", "works",
        "secret", "breakthrough", "revolutionary", "ultimate", "unmatched", "incredible", "amazing",
        "life[- ]changing", "magic", "cure[- ]all", "superfood", "wonder", "fast[- ]acting", "overnight",
        "permanently", "for good", "once and for all", "no doubt", "undisputed", "scientifically",
    ),
    "authority": _words(
        "clinically (?:proven|tested|shown|studied)", "doctors? (?:agree|recommend|approved?|trust)",
        "science[- ]backed", "backed by (?:science|research|studies)", "science (?:confirms|proves|shows)",
        "recommended by", "experts? (?:agree|recommend|say)", "approved", "endorsed", "physician[- ]formulated",
    ),
    "absolute_safety": _words(
        "no (?:known )?side[- ]effects?", "side[- ]effect[- ]free", "(?:completely|totally|perfectly|100%|0+%) safe",
        "non[- ]addictive", "not habit[- ]forming", "never habit[- ]forming", "zero (?:risk|side effects)",
        "without (?:the |any |causing |harmful |unwanted )*(?:side[- ]effects|adverse (?:effects|reactions)|risks?|"
        "harsh|harm|dependence|addiction)", "no (?:known )?(?:adverse|harmful) (?:effects|reactions)",
        "no risk", "harmless", "safer than",
        "risk[- ]free", "no (?:dependence|addiction|withdrawal)", "safe for everyone", "all[- ]natural",
    ),
    "disease": _words(
        "cancer", "tumou?rs?", "diabet(?:es|ic)", "depression", "depressive", "anxiety", "arthritis",
        "alzheimer'?s?", "dementia", "covid(?:-0+)?", "flu", "influenza", "colds?", "infections?",
        "hypertension", "blood pressure", "cholesterol", "insomnia", "ptsd", "adhd", "autism", "heart disease",
        "stroke", "asthma", "eczema", "psoriasis", "acne", "ibs", "crohn'?s?", "migraines?", "chronic pain",
        "pain", "inflammation", "obesity", "osteoporosis", "addiction", "withdrawal", "opioid use disorder",
        "viruse?s?", "bacteria", "pathogens?", "fatty liver", "liver disease", "kidney disease", "thyroid",
        "hypothyroidism", "erectile dysfunction", "bph", "infertility", "hot flashes", "lupus", "parkinson'?s?",
        "epilepsy", "seizures?", "neuropathy", "fibromyalgia", "gout", "ulcers?", "hepatitis", "hiv", "herpes",
        "shingles", "lyme", "candida", "uti", "sinusitis", "pneumonia", "anemia", "disorders?", "disease",
        "syndrome", "cardiovascular", "blood sugar", "insulin resistance", "hair loss", "joint pain",
        "macular degeneration", "cataracts?", "glaucoma", "fractures?", "diarrh?o?ea", "allerg(?:y|ies|ic)",
        "hay fever", "nausea", "vomiting", "colic", "heartburn", "acid reflux", "gerd", "colitis", "celiac",
        "multiple sclerosis", "autoimmune", "schizophrenia", "bipolar", "ocd", "sepsis", "malaria", "tuberculosis",
        "measles", "sore throats?", "coughs?", "fevers?", "wounds?", "kidney stones?", "gallstones?",
        "prediabetes", "metabolic syndrome", "heart attacks?", "heart failure", "atrial fibrillation",
        "arrhythmias?", "angina", "atherosclerosis", "clogged arteries", "varicose veins", "hemorrhoids",
        "rosacea", "dermatitis", "warts", "yeast infections?", "parasites?", "leaky gut", "sciatica",
        "tinnitus", "vertigo", "concussions?", "sleep apnea", "anorexia", "panic attacks?", "hangovers?",
        "overdoses?", "poisoning", "chronic fatigue", "long covid", "osteoarthritis", "tendinitis", "bronchitis",
    ),
    "treat_verb": _words(
        "cur(?:e|es|ed|ing)", "treat(?:s|ed|ing|ment)?", "heal(?:s|ed|ing)?", "revers(?:e|es|ed|ing)",
        "prevent(?:s|ed|ing)?", "eliminat(?:e|es|ed|ing)", "eradicat(?:e|es|ed)", "fights?", "kills?",
        "destroys?", "reliev(?:e|es|ed)", "relief", "alleviat(?:e|es|ed)", "reduc(?:e|es|ed)", "lowers?",
        "lowered", "boosts?", "restor(?:e|es|ed)", "repairs?", "detox(?:es|ify|ifies)?", "cleanses?",
        "mitigat(?:e|es)", "fix(?:es|ed)?", "stops?", "beats?", "banish(?:es)?", "wipes? out", "melts?",
        "burns?", "regrows?", "rebuilds?", "normaliz(?:e|es)", "balances?", "improv(?:e|es|ed)", "enhanc(?:e|es)",
    ),
    "drug_class": _words(
        "anti-?viral", "anti-?bacterial", "antibiotics?", "anti-?depressants?", "anxiolytic", "analgesics?",
        "anti-?inflammator(?:y|ies)", "anti-?fungal", "anti-?microbial", "antihistamines?", "anti-?cancer",
        "anti-?tumou?r", "painkillers?", "pain relievers?", "anticonvulsants?", "antipsychotics?", "sedatives?",
        "chemo(?:therapy)?", "statins?", "metformin", "ssris?", "opioids?", "ibuprofen", "insulin",
        "prescriptions?", "medications?", "drugs?", "pharmaceuticals?", "inhalers?", "blood thinners?",
    ),
    "drug_substitute": _words(
        "replac(?:e|es|ing) (?:your |the need for )?(?:medication|medicine|drugs?|pills|prescriptions?)",
        "instead of (?:your )?(?:medication|medicine|drugs?|pills|prescriptions?)",
        "(?:natural )?alternative to (?:\\w+ )?(?:medication|medicines?|drugs?|pills|prescriptions?|antidepressants?)",
        "ditch (?:your|the)", "no more (?:pills|meds|medication|ibuprofen|inhalers?|statins?)",
        "stop(?:ped)? taking", "off (?:my|your|all) (?:meds|medication)", "better than (?:\\w+ )?(?:drugs?|medication)",
        "like prescription", "works like", "as effective as", "more effective than",
        "(?:avoid|skip|bypass|escape) (?:the |your |any )?(?:\\w+ ){0,2}(?:surgery|surgeries|chemo(?:therapy)?|"
        "radiation|radiotherapy|medications?|drugs|pills|insulin|statins|antibiotics|injections|treatments)",
        "(?:say )?goodbye to (?:your |the )?(?:\\w+ )?(?:pills|meds|medications?|inhalers?|insulin|statins|"
        "painkillers|drugs)",
        "(?:reduce|lower|decrease|eliminate|cut|end) (?:your |the )?(?:need|dependence|reliance) (?:for|on)",
        "no (?:longer )?need (?:for )?(?:\\w+ )?(?:medications?|drugs|pills|insulin|surgery|inhalers?)",
        "(?:get|got|come|came|getting|coming) off (?:my|your|their|all|his|her) (?:\\w+ ){0,2}(?:meds|medications?|pills)",
    ),
    "support_verb": _words(
        "helps?", "helped", "helping", "supports?", "supporting", "promotes?", "maintains?", "aids?", "eases?",
        "soothes?", "calms?", "strengthens?", "protects?", "defends?", "optimi[sz]es?", "nourish(?:es)?",
        "fortif(?:y|ies)", "revitaliz(?:e|es)", "rejuvenat(?:e|es)", "energiz(?:e|es)",
    ),
    "first_person": _words("i", "i'm", "i've", "my", "me", "myself"),
    "negation": _words("not", "no", "never", "none", "nothing", "cannot", "can't", "won't", "don't", "doesn't",
                       "isn't", "aren't", "without", "neither", "nor"),
    "can_claim": _words("can (?:help|aid|support|reduce|improve|boost|relieve|ease|lower|enhance|alleviate|"
                        "treat|cure|prevent|fight|protect|promote|restore|reverse|significantly)"),
    "warning": _words(
        "side effects? (?:can |may )?include", "may cause", "can cause", "risks?", "interact(?:s|ions?)?",
        "avoid", "do not (?:take|use|exceed)", "pregnant", "breastfeeding", "liver (?:injury|damage|toxicity)",
        "warning", "caution", "adverse", "toxicity", "overdose", "dependence", "keep out of reach",
    ),
    "disclaimer": _words(
        "not (?:been )?evaluated by", "not intended to diagnose", "diagnose, treat, cure,? or prevent",
        "consult", "talk to your (?:doctor|pharmacist|healthcare)", "speak (?:with|to) (?:a|your)",
        "healthcare (?:provider|professional)", "medical advice", "informational purposes",
    ),
    "nutrient_function": _words("contributes? to (?:the )?(?:normal|maintenance)", "is needed for", "plays a role in",
                                "is involved in", "essential (?:mineral|vitamin|nutrient)"),
    "correlational": _words(
        "associated with", "associations? (?:between|with)", "linked (?:to|with)", "links? between", "tied to",
        "correlat(?:e|es|ed|ion|ions)", "related to", "relationships? between", "predictors? of", "predicted",
        "(?:more|less) likely to", "(?:lower|higher|reduced|increased) (?:rates?|odds|incidence|prevalence)",
        "odds ratios?", "hazard ratios?", "risk factors?", "observational", "cohort", "cross-sectional",
    ),
    "causal": _words(
        "results? in", "resulted in", "leads? to", "led to", "caus(?:e|es|ed|ing)", "improved", "reduced",
        "increased", "decreased", "lowered", "prevented", "protects? against", "protected", "effective",
        "efficacy", "significantly", "enhanced", "boosted", "cuts?", "slash(?:es|ed)?", "halved", "doubled",
        "restored", "reversed", "eliminated", "relieved", "alleviated", "works?",
    ),
    "attribution": _words(
        "it is (?:claimed|said|believed|thought|alleged|rumou?red|reported)",
        "(?:is|are|was|were|has been|have been) (?:said|claimed|believed|thought|rumou?red|reputed|purported|"
        "alleged|touted|promoted|marketed|advertised|sold|billed|hailed|used) (?:to|as|for)",
        "purported(?:ly)?", "allegedly", "reportedly", "supposedly", "so-called", "proponents", "supporters",
        "advocates", "promoters", "practitioners", "critics", "skeptics", "sellers", "marketers",
        "(?:some|many|others) (?:people )?(?:believe|claim|say|argue|think)", "claims? (?:that|to)",
        "according to (?:folklore|tradition|legend|proponents|its (?:makers|sellers|manufacturers?))",
        "traditionally", "folk (?:medicine|remed(?:y|ies))", "in traditional",
    ),
    "doxastic": _words(
        "believes?", "believed", "think", "thinks", "thought", "expects?", "expected", "suspects?", "suspected",
        "predicts?", "speculat(?:e|es|ed|ion)", "hopes?", "hoped", "fears?", "feared", "doubts?", "doubtful",
        "estimates?", "estimated", "assumes?", "assumed", "presumably", "apparently", "projected", "forecasts?",
        "would", "unlikely", "expectations?", "anticipat(?:e|es|ed)", "foresees?", "envision(?:s|ed)?",
        "wonder(?:s|ed)?", "considers?", "regards?", "convinced", "confident that", "must have", "seems?", "seemed",
        "looks? like", "evidently", "insists?", "suspicion", "rumou?rs?", "should",
    ),
    "open_question": _words(
        "whether", "if", "unless", "unclear", "not clear", "uncertain(?:ty)?", "unknown", "not known",
        "remains? to be seen", "questions? remain", "open question", "debated?", "controversial", "provided that",
    ),
}
# A claim cue inside the scope of a negation ("has not been shown to reduce", "isn't safe for everyone") or after
# an attribution that keeps its distance ("it is claimed that it cures") is counted apart, not as a claim.
SCOPED = ("booster", "authority", "absolute_safety", "treat_verb", "can_claim", "causal", "drug_substitute",
          "support_verb")
_NEGATION_BEFORE = re.compile(
    r"(?:\b(?:not|no|never|nor|neither|none|cannot|without|lacks?|lacking|fail(?:s|ed)? to|little|insufficient)\b"
    r"|n't)(?:\s+(?!(?:and|but|or|yet|while|though|only)\b)[\w'-]+){0,3}\s*$")
NEGATION_WINDOW = 40

# Patterns are matched against lower-cased text: much faster than re.IGNORECASE.
_COMPILED = {name: re.compile(pattern) for name, pattern in CUES.items()}
CITATION_CUES = (*CUE_PATTERNS, "evidence_hint")
SCOPE_CUES = ("negated_claim", "attributed_claim")
# One scan of a text finds every cue's matches (the same matches as one finditer per cue, several times faster).
_FIRST_WORDS = FirstWordIndex(_COMPILED)
# The counts in column order.
_COUNTED = (*SCOPE_CUES, *_COMPILED, *(f"cite:{kind}" for kind in CITATION_CUES))
# What a claim is about: an effect cue (not negated, not attributed) with a disease term, or with none. The claim
# types' heads need the conjunction, which a linear model over separate counts cannot form.
EFFECT_CUES = ("treat_verb", "support_verb", "can_claim", "causal", "drug_substitute")
_CONJUNCTIONS = ("disease_effect", "function_effect")
_SHAPE = ("question", "exclamation", "all_caps_words", "length")

# Each cue in words a moderator can act on: the page shows a sentence's top terms with these.
CUE_DESCRIPTIONS: dict[str, str] = {
    "negated_claim": "a claim word under a negation (\"not shown to\")",
    "attributed_claim": "a claim word after a distancing attribution (\"it is claimed that\")",
    "hedge_modal": "hedging words (may, might, suggests)",
    "evidence_limit": "limits of the evidence (preliminary, small, in mice)",
    "scope_limit": "limits of scope (some people, in some cases)",
    "booster": "boosting words (proven, guaranteed, miracle)",
    "authority": "appeals to authority (doctors recommend, experts agree)",
    "absolute_safety": "promises of safety (no side effects, completely safe)",
    "disease": "a disease or symptom named",
    "treat_verb": "treat, cure or prevent words",
    "drug_class": "drug-class words (antidepressant, painkiller)",
    "drug_substitute": "offered instead of, or compared with, a medicine",
    "support_verb": "support or promote words",
    "first_person": "first-person words (I, my)",
    "negation": "negation words (not, no, never)",
    "can_claim": "\"can help\"-style claims",
    "warning": "warning or caution words",
    "disclaimer": "a disclaimer (not evaluated by the FDA, not intended to)",
    "nutrient_function": "authorised nutrient-function wording (contributes to the normal)",
    "correlational": "correlational wording (associated with, linked to)",
    "causal": "causal wording (causes, leads to, reduces)",
    "attribution": "attribution (according to, users report)",
    "doxastic": "belief or expectation (believed, expected)",
    "open_question": "an open question (more research is needed)",
    "cite:doi": "a DOI",
    "cite:pmid": "a PubMed id",
    "cite:url": "a web address",
    "cite:clinical_trial": "a clinical-trial registry number",
    "cite:author_year": "an author and a year",
    "cite:volume_pages": "a volume and pages",
    "cite:journal": "a journal named",
    "cite:institution": "an institution named",
    "cite:vague": "unnamed evidence (studies show)",
    "cite:evidence_hint": "a hint of evidence (research, a study)",
    "disease_effect": "an effect claimed on a disease",
    "function_effect": "an effect claimed on a body function",
    "question": "a question",
    "exclamation": "an exclamation",
    "all_caps_words": "words in capitals",
    "length": "the sentence's length",
}


def cue_counts(masked_text: str, scopes: bool = True) -> dict[str, int]:
    """How often each cue of :data:`CUES` and each citation cue kind (``cite:<kind>``) occurs in a text already
    passed through :func:`overclaim.masking.mask_products`.

    With ``scopes``, a match of a :data:`SCOPED` claim cue that follows a negation within ``NEGATION_WINDOW``
    characters counts as ``negated_claim``, and one that follows a distancing attribution counts as
    ``attributed_claim``, instead of counting as its own cue.
    """
    lower = masked_text.lower()
    counts = dict.fromkeys(_COUNTED, 0)
    found = _FIRST_WORDS.find(lower)
    attributions = [match.end() for match in found.get("attribution", ())]
    attributed_from = attributions[0] if scopes and attributions else len(lower) + 1
    for name, matches in found.items():
        if not scopes or name not in SCOPED:
            counts[name] = len(matches)
            continue
        for match in matches:
            if _NEGATION_BEFORE.search(lower, max(0, match.start() - NEGATION_WINDOW), match.start()):
                counts["negated_claim"] += 1
            elif match.start() >= attributed_from:
                counts["attributed_claim"] += 1
            else:
                counts[name] += 1
    for cue in find_cues(masked_text):
        counts[f"cite:{cue.kind}"] += 1
    return counts


class CueFeatures(TransformerMixin, BaseEstimator):
    """Counts of linguistic cues (hedges, boosters, disease and drug-class terms, citation patterns).

    Each count is capped at ``cap`` and divided by it, so every column lies in [0, 1] like the TF-IDF columns
    beside it; ``scale`` sets their weight against those columns.

    Parameters
    ----------
    cap : int, default=2
        Matches beyond this many count as this many.
    scale : float, default=1.0
        Multiplier on every cue column.
    scopes : bool, default=True
        Count claim cues under a negation or a distancing attribution apart (see :func:`cue_counts`).

    Examples
    --------
    >>> X = CueFeatures().fit_transform(["Clinically proven: no side effects!"]).toarray()
    >>> names = list(CueFeatures().fit(["x"]).get_feature_names_out())
    >>> float(X[0, names.index("cue:absolute_safety")])
    0.5
    """

    def __init__(self, cap=2, scale=1.0, scopes=True):
        self.cap = cap
        self.scale = scale
        self.scopes = scopes

    def fit(self, X, y=None):
        """Validate parameters; nothing is learned from ``X``. Returns ``self``."""
        if self.cap < 1:
            raise ValueError(f"cap must be at least 1, got {self.cap}")
        names = (*_COUNTED, *_CONJUNCTIONS, *_SHAPE)
        self.feature_names_out_ = np.array([f"cue:{name}" for name in names], dtype=object)
        return self

    def transform(self, X):
        """Return a sparse matrix of capped cue counts, one row per text."""
        rows = [self._row(str(text)) for text in X]
        values = np.minimum(np.asarray(rows, dtype=np.float64).reshape(len(rows), -1), self.cap)
        return sparse.csr_matrix(values * (self.scale / self.cap))

    def _row(self, text: str) -> list[float]:
        counts = cue_counts(text, self.scopes)
        effect = sum(counts[name] for name in EFFECT_CUES)
        disease = counts["disease"] + counts["drug_class"]
        words = text.split()
        caps = sum(1 for w in words if len(w) > 2 and w.isupper() and w != MASK)
        return [*counts.values(), min(effect, disease), 0 if disease else effect, text.count("?"), text.count("!"),
                caps, len(words) / 20]

    def get_feature_names_out(self, input_features=None):
        """Names ``cue:<name>`` of the columns."""
        return self.feature_names_out_
