"""Behaviour of the shipped model, CheckList style: minimum functionality, invariance, direction.

Thresholds have margin: these are properties a user relies on, not exact floats.
"""
import pytest

OVERCLAIMS = [
    "Turmeric cures cancer.",
    "Elderberry syrup knocks out the flu in 24 hours, guaranteed.",
    "Our CBD oil is clinically proven to eliminate chronic pain with no side effects.",
    "Berberine works better than metformin for diabetes.",
    "Colloidal silver is a natural antibiotic that kills viruses.",
]
HEDGES = [
    "Turmeric may help some people with mild joint discomfort.",
    "Preliminary evidence suggests ashwagandha might modestly lower stress, but more research is needed.",
    "A small study in mice found that NMN may affect energy metabolism.",
]
NEUTRALS = [
    "Take two capsules daily with food.",
    "Store in a cool, dry place.",
    "Magnesium is a mineral found in leafy greens, nuts and seeds.",
    "Talk to your doctor before taking any supplement.",
]
# Regression: standalone limits of the evidence scored as overclaims ("More research is needed." 0.75, block)
# while the corpus held such phrases only around certain claims (R1). None of these sentences is in the corpus.
# Known miss since the corpus gained its human-voice rows: allowed (0.107, review at 0.203), but inside the margin.
NEAR_REVIEW = pytest.mark.xfail(strict=True, reason="allowed, but less than 0.1 below the review threshold")
EVIDENCE_LIMITS = [
    "More research is needed.",
    "However, more research is needed.",
    "More research is needed to confirm these findings.",
    "Evidence is limited.",
    "The studies so far are small.",
    "Results are preliminary.",
]
SHORT_OVERCLAIMS = ["Cures arthritis.", "Clinically proven.", "Melts belly fat overnight."]
# Regression: product titles and section headings scored erratically ("Our ingredients" 0.905, block; "Zinc" 0.27,
# review) while the corpus held few of them (R13). None of these lines is in the corpus.
NEUTRAL_TITLES = [
    "Directions for use",
    "About this item",
    "Customer questions and answers",
    "Ginkgo",
    "HARBORLINE Turmeric Curcumin Gummies - 90 Count",
    pytest.param("Elderberry Gummies for Children", marks=NEAR_REVIEW),
    "Vegan Vitamin D3 Spray, 1000 IU",
]
OVERCLAIMING_TITLES = [
    "Turmeric Gummies - Cures Joint Pain Fast",
    "Clinically Proven Sleep Aid That Ends Insomnia",
    "The Natural Prozac: St. John's Wort Capsules",
    "Probiotic Gummies That Cure IBS Overnight",
]
NAMES = ["turmeric", "ashwagandha", "zinc", "berberine", "elderberry", "melatonin", "CBD"]


def label_of(scorer, text):
    probabilities = scorer.score(text).sentences[0]["probabilities"]
    return max(probabilities, key=probabilities.get)


@pytest.mark.parametrize("text", OVERCLAIMS)
def test_plain_overclaims_are_overclaims(scorer, text):
    assert label_of(scorer, text) == "overclaim"
    assert scorer.score(text).decision in ("review", "block")


@pytest.mark.parametrize("text", HEDGES)
def test_honest_hedges_are_hedged(scorer, text):
    assert label_of(scorer, text) == "hedged"


@pytest.mark.parametrize("text", NEUTRALS)
def test_instructions_and_descriptions_are_neutral_and_allowed(scorer, text):
    assert label_of(scorer, text) == "neutral"
    assert scorer.score(text).decision == "allow"


@pytest.mark.parametrize("text", EVIDENCE_LIMITS)
def test_a_standalone_evidence_limit_is_neutral_and_well_below_review(scorer, text):
    assert label_of(scorer, text) == "neutral"
    assert scorer.score(text).risk < scorer.thresholds["review"] - 0.1


@pytest.mark.parametrize("text", SHORT_OVERCLAIMS)
def test_a_short_overclaim_is_still_blocked(scorer, text):
    assert scorer.score(text).risk > scorer.thresholds["block"] + 0.15


@pytest.mark.parametrize("text", NEUTRAL_TITLES)
def test_a_neutral_title_or_heading_is_well_below_review(scorer, text):
    assert scorer.score(text).risk < scorer.thresholds["review"] - 0.1


@pytest.mark.parametrize("text", OVERCLAIMING_TITLES)
def test_a_title_that_packs_in_a_claim_is_blocked(scorer, text):
    assert scorer.score(text).risk > scorer.thresholds["block"] + 0.15


@pytest.mark.parametrize("template", [
    "{} cures anxiety and depression.",
    "{} may help some people sleep, though evidence is limited.",
    "Take one capsule of {} with breakfast.",
])
def test_swapping_the_supplement_name_moves_risk_by_less_than_005(risk, template):
    risks = [risk(template.format(name)) for name in NAMES]
    assert max(risks) - min(risks) < 0.05


def test_appending_neutral_sentences_does_not_raise_document_risk(risk):
    claim = "This tea detoxes your liver and melts belly fat."
    padded = claim + " Steep one bag in hot water for five minutes. Store in a dry place. Contains no gluten."
    assert risk(padded) <= risk(claim) + 1e-9


@pytest.mark.parametrize("certain, softened", [
    ("Ashwagandha lowers cortisol.", "Ashwagandha may lower cortisol."),
    ("Zinc shortens colds.", "Preliminary evidence suggests zinc might shorten colds."),
    ("Berberine lowers blood sugar.", "Preliminary evidence suggests berberine may lower blood sugar in some people."),
])
def test_hedging_lowers_risk(risk, certain, softened):
    assert risk(softened) < risk(certain) - 0.1


@pytest.mark.parametrize("plain, boosted", [
    ("Magnesium helps with sleep.", "Magnesium is clinically proven to fix sleep."),
    ("Collagen supports skin.", "Collagen is clinically proven to erase wrinkles."),
])
def test_authority_and_boosters_raise_risk(risk, plain, boosted):
    assert risk(boosted) > risk(plain)


# Transfer issue: what real, human-written text does (data/ANNOTATION.md R14-R19 and Axis 3). None of these
# sentences is in the corpus or in the external development sets.
@pytest.mark.parametrize("causal, weaker", [
    ("Eating walnuts every day lowers the risk of heart attacks.",
     "Eating walnuts every day is associated with a lower risk of heart attacks."),
    ("Regular sauna use prevents dementia in older men.",
     "Regular sauna use was linked to fewer cases of dementia in older men."),
    ("Vitamin K2 supplementation reduced arterial stiffness in dialysis patients.",
     "Vitamin K2 supplementation may reduce arterial stiffness in dialysis patients."),
    ("Cocoa flavanols improve memory in adults over sixty.",
     "Cocoa flavanols could improve memory in adults over sixty."),
])
def test_correlational_and_conditional_wording_scores_below_direct_causal_wording(risk, causal, weaker):
    assert risk(weaker) < risk(causal) - 0.1


@pytest.mark.parametrize("asserted, attributed", [
    ("Chaga mushroom shrinks tumors.", "It is claimed that chaga mushroom shrinks tumors."),
    ("Pau d'arco tea cures yeast infections.", "Pau d'arco tea is said to cure yeast infections."),
    ("Black seed oil reverses diabetes.", "Proponents believe black seed oil reverses diabetes."),
])
def test_a_claim_attributed_to_others_scores_below_the_same_claim_asserted(scorer, risk, asserted, attributed):
    assert risk(attributed) < risk(asserted) - 0.1
    assert scorer.score(attributed).sentences[0]["hedging"] > 0.5


@pytest.mark.parametrize("text", [
    "Garlic supplements have not been shown to prevent colds.",
    "Feverfew isn't safe for everyone.",
    "In the trial, ginkgo did no better than placebo at slowing memory loss.",
    "Bee pollen is not approved to treat any allergy.",
])
def test_negated_or_limited_evidence_is_allowed(scorer, text):
    assert scorer.score(text).decision == "allow"


@pytest.mark.parametrize("text", [
    pytest.param("Each scoop is loaded with cancer-fighting antioxidants.", id="noun phrase"),
    pytest.param("Customers love its ability to calm panic attacks within minutes.", id="presupposed benefit"),
    pytest.param("Our mushroom blend is nature's chemo.", id="drug metaphor"),
    pytest.param("With this tonic you can replace some of your blood pressure pills.", id="replace a drug"),
    pytest.param("Skip the painful knee surgery and try our collagen cream instead.", id="avoid surgery"),
    pytest.param("Say goodbye to your inhaler for good.", id="drop a drug"),
    pytest.param("STOPS MIGRAINES IN MINUTES", id="capitals"),
    pytest.param("- wipes out sinus infections naturally", id="bullet fragment"),
])
def test_a_claim_packed_into_a_phrase_a_paraphrase_or_a_fragment_is_flagged(scorer, text):
    assert scorer.score(text).decision in ("review", "block")


def test_a_rhetorical_question_that_asserts_a_claim_scores_above_a_genuine_question(risk):
    assert risk("Why take statins when hawthorn clears your arteries for pennies?") > \
        risk("Does hawthorn lower blood pressure?") + 0.2


@pytest.mark.parametrize("tentative, certain", [
    ("Officials expect the bridge to reopen in the spring.", "The bridge reopened on Monday."),
    ("It remains unclear whether the council will approve the budget.", "The council approved the budget."),
    ("If the strike continues, flights could be cancelled.", "Flights were cancelled on Friday."),
    ("Magnesium might ease leg cramps in some people.", "Magnesium is a mineral."),
])
def test_hedging_scores_tentative_wording_on_any_topic(scorer, tentative, certain):
    assert scorer.score(tentative).sentences[0]["hedging"] > 0.5
    assert scorer.score(certain).sentences[0]["hedging"] < 0.5
