"""Word lists the model and the corpus checks share.

``SUPPLEMENTS`` maps each canonical supplement or product type of the corpus (the ``supplement`` column) to the
names it goes by. ``OTHER_PRODUCTS`` are names the corpus does not cover, masked all the same so that the
model meets unseen products as the same ``SUPPLEMENT`` token it learned from.
"""
from __future__ import annotations

SUPPLEMENTS: dict[str, tuple[str, ...]] = {
    "kratom": ("kratom", "mitragyna speciosa", "mitragyna", "mitragynine", "7-hydroxymitragynine", "7-oh"),
    "turmeric": ("turmeric", "curcumin", "curcuminoids", "curcuma longa"),
    "ashwagandha": ("ashwagandha", "withania somnifera", "withania", "ksm-66", "sensoril"),
    "berberine": ("berberine",),
    "nmn": ("nmn", "nicotinamide mononucleotide", "nad+", "nicotinamide riboside"),
    "elderberry": ("elderberry", "elderberries", "sambucus nigra", "sambucus", "elder berry"),
    "cbd": ("cbd", "cannabidiol", "hemp extract", "hemp oil", "full-spectrum hemp", "broad-spectrum hemp"),
    "collagen": ("collagen", "collagen peptides", "hydrolyzed collagen"),
    "creatine": ("creatine", "creatine monohydrate"),
    "melatonin": ("melatonin",),
    "magnesium": ("magnesium", "magnesium glycinate", "magnesium citrate", "magnesium oxide", "magnesium l-threonate"),
    "omega-3": ("omega-3", "omega 3", "omega-3s", "fish oil", "krill oil", "epa", "dha", "cod liver oil", "algal oil"),
    "probiotics": ("probiotics", "probiotic", "lactobacillus", "bifidobacterium", "l. rhamnosus", "saccharomyces boulardii"),
    "vitamin d": ("vitamin d", "vitamin d3", "vitamin d2", "cholecalciferol", "d3"),
    "zinc": ("zinc", "zinc picolinate", "zinc gluconate", "zinc lozenges"),
    "green tea extract": ("green tea extract", "green tea", "egcg", "catechins", "matcha"),
    "apple cider vinegar": ("apple cider vinegar", "acv", "cider vinegar"),
    "colloidal silver": ("colloidal silver", "silver hydrosol", "nano silver"),
    "medicinal mushrooms": (
        "medicinal mushrooms", "mushroom extract", "lion's mane", "lions mane", "reishi", "chaga", "cordyceps",
        "turkey tail", "maitake", "shiitake",
    ),
    "st. john's wort": ("st. john's wort", "st john's wort", "st. john’s wort", "hypericum", "hypericum perforatum"),
    "ginkgo": ("ginkgo", "ginkgo biloba", "gingko"),
    "kava": ("kava", "kava kava", "kavalactones", "piper methysticum"),
    "valerian": ("valerian", "valerian root", "valeriana officinalis"),
    "5-htp": ("5-htp", "5 htp", "5-hydroxytryptophan", "griffonia"),
    "l-theanine": ("l-theanine", "theanine", "l theanine"),
    "rhodiola": ("rhodiola", "rhodiola rosea", "golden root", "arctic root"),
    "spirulina": ("spirulina", "blue-green algae", "chlorella"),
    "moringa": ("moringa", "moringa oleifera", "moringa leaf"),
    "sea moss": ("sea moss", "irish moss", "chondrus crispus", "sea moss gel"),
    "black seed oil": ("black seed oil", "black seed", "nigella sativa", "black cumin", "thymoquinone"),
    "garlic": ("garlic", "aged garlic extract", "garlic extract", "allicin"),
    "resveratrol": ("resveratrol", "trans-resveratrol"),
    "vitamin c": ("vitamin c", "ascorbic acid", "liposomal vitamin c", "ascorbate"),
    "vitamin b12": ("vitamin b12", "b12", "methylcobalamin", "cyanocobalamin", "cobalamin"),
    "iron": ("iron", "ferrous sulfate", "ferrous bisglycinate", "iron bisglycinate"),
    "quercetin": ("quercetin",),
    "coq10": ("coq10", "coenzyme q10", "co-q10", "ubiquinol", "ubiquinone"),
    "glucosamine": ("glucosamine", "chondroitin", "glucosamine sulfate"),
    "biotin": ("biotin", "vitamin b7", "vitamin h"),
    "saw palmetto": ("saw palmetto", "serenoa repens"),
    "milk thistle": ("milk thistle", "silymarin", "silybum marianum"),
    "echinacea": ("echinacea", "echinacea purpurea", "purple coneflower"),
    "ginseng": ("ginseng", "panax ginseng", "korean red ginseng", "american ginseng", "siberian ginseng"),
    "maca": ("maca", "maca root", "lepidium meyenii"),
    "detox tea": ("detox tea", "teatox", "cleanse tea", "detox cleanse", "colon cleanse"),
    "weight loss pills": (
        "weight loss pills", "fat burner", "fat burners", "keto pills", "keto gummies", "diet pills",
        "garcinia cambogia", "garcinia", "raspberry ketones", "glucomannan",
    ),
    "protein powder": ("protein powder", "whey protein", "whey", "casein", "plant protein", "pea protein"),
}

OTHER_PRODUCTS: tuple[str, ...] = (
    "vitamin a", "vitamin e", "vitamin k2", "vitamin k", "vitamin b6", "b-complex", "folate", "folic acid",
    "calcium", "potassium", "selenium", "iodine", "chromium", "copper", "boron", "multivitamin", "multivitamins",
    "prenatal vitamins", "fiber", "psyllium", "inulin", "prebiotics", "digestive enzymes", "bromelain",
    "alpha-lipoic acid", "n-acetylcysteine", "nac", "glutathione", "l-glutamine", "glutamine", "l-arginine",
    "arginine", "l-citrulline", "citrulline", "beta-alanine", "bcaa", "bcaas", "carnitine", "l-carnitine",
    "taurine", "tyrosine", "gaba", "sam-e", "dhea", "msm", "hyaluronic acid", "astaxanthin", "lutein",
    "zeaxanthin", "lycopene", "pycnogenol", "pine bark extract", "grape seed extract", "bilberry", "cranberry",
    "cranberry extract", "d-mannose", "black cohosh", "evening primrose oil", "dong quai", "red clover",
    "chasteberry", "vitex", "fenugreek", "tongkat ali", "tribulus", "horny goat weed", "yohimbe", "yohimbine",
    "shilajit", "sea buckthorn", "bee pollen", "royal jelly", "propolis", "manuka honey", "oregano oil",
    "tea tree oil", "peppermint oil", "ginger", "cinnamon", "cinnamon extract", "fenugreek seed", "bitter melon",
    "gymnema", "cayenne", "capsaicin", "forskolin", "hoodia", "ephedra", "bitter orange", "synephrine",
    "caffeine", "guarana", "yerba mate", "passionflower", "lemon balm", "chamomile", "lavender", "hops",
    "skullcap", "holy basil", "tulsi", "bacopa", "bacopa monnieri", "gotu kola", "phosphatidylserine",
    "citicoline", "alpha-gpc", "huperzine a", "noopept", "nootropics", "nootropic", "kanna", "blue lotus",
    "delta-8", "thc", "cbg", "cbn", "hemp", "activated charcoal", "chlorophyll", "wheatgrass", "barley grass",
    "aloe vera", "licorice root", "slippery elm", "marshmallow root", "dandelion root", "burdock root",
    "nettle", "stinging nettle", "horsetail", "cat's claw", "pau d'arco", "olive leaf extract", "neem",
    "andrographis", "astragalus", "schisandra", "eleuthero", "cissus", "boswellia", "devil's claw",
    "white willow bark", "arnica", "comfrey", "feverfew", "butterbur", "red yeast rice", "policosanol",
    "nattokinase", "serrapeptase", "hawthorn", "beetroot", "beet root", "nitric oxide boosters",
    "pre-workout", "mass gainer", "electrolytes", "colostrum", "bone broth", "mct oil", "ketones", "exogenous ketones",
    "superfood powder", "greens powder",
)


def product_names() -> tuple[str, ...]:
    """All names to mask, longest first so that "vitamin d3" wins over "vitamin d"."""
    names = {alias for aliases in SUPPLEMENTS.values() for alias in aliases} | set(OTHER_PRODUCTS)
    return tuple(sorted(names, key=lambda name: (-len(name), name)))
