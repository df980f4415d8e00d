"""Claim types and moderation policies: the shipped policies, user policy files, and every surface's --policy."""
import json
import subprocess

import pytest

from conftest import BIN
from overclaim.policy import (CLAIM_TYPES, CONDITIONS, DECISIONS, PolicyError, decide, load_policy, parse_policy,
                              shipped_policies)
from train import corpus

DISCLAIMER = "These statements have not been evaluated by the Food and Drug Administration."


def test_the_four_policies_ship_and_load():
    assert shipped_policies() == ("default", "editorial", "strict-eu", "us-dshea")
    for name in shipped_policies():
        policy = load_policy(name)
        assert policy.name == name and policy.description and policy.rules
        assert all(rule.name.startswith(f"{name}/") and rule.decision in DECISIONS for rule in policy.rules)


def test_the_default_policy_gives_the_answers_the_thresholds_gave(scorer):
    """The answer before policies existed: the text's riskiest sentence against the thresholds."""
    frame = corpus.load()
    texts = list(frame["text"].sample(400, random_state=3)) + ["", "   ", "Take one daily. It cures gout."]
    texts.append(" ".join(texts[:40]))
    for cuts in (None, {"review": 0.0, "block": 1.0}, {"review": 0.5, "block": 0.5}, {"review": 0.05, "block": 0.3}):
        effective = cuts or scorer.thresholds
        for result in scorer.score_many(texts, cuts):
            assert result.decision == decide(result.risk, effective)
            assert result.policy == "default"


@pytest.mark.parametrize("text, policy, decision, rule", [
    ("May help prevent colds and flu.", "us-dshea", "block", "us-dshea/disease-claim"),
    ("Our elderberry syrup knocks out the flu in 24 hours.", "us-dshea", "block", "us-dshea/disease-claim"),
    ("Completely safe, with no side effects at all.", "us-dshea", "block", "us-dshea/absolute-safety"),
    (f"Supports healthy immune function.* {DISCLAIMER}", "us-dshea", "allow",
     "us-dshea/structure-function-disclaimed"),
    ("Supports healthy joints and flexibility.", "us-dshea", "review",
     "us-dshea/structure-function-without-disclaimer"),
    ("Take two capsules daily with food.", "us-dshea", "allow", "us-dshea/no-rule"),
    ("Vitamin C contributes to the normal function of the immune system.", "strict-eu", "allow",
     "strict-eu/authorised-nutrient-function"),
    ("Supports healthy joints and flexibility.", "strict-eu", "review", "strict-eu/unauthorised-health-claim"),
    ("Turmeric cures arthritis.", "strict-eu", "block", "strict-eu/disease-claim"),
    ("Magnesium may help some people fall asleep a little faster.", "editorial", "allow", "editorial/hedged-claim"),
    ("Turmeric cures arthritis.", "editorial", "review", "editorial/unhedged-efficacy"),
])
def test_each_policy_decides_by_its_rules_and_names_the_rule(scorer, text, policy, decision, rule):
    result = scorer.score(text, policy=policy)
    assert (result.decision, result.rule, result.policy) == (decision, rule, policy)


@pytest.mark.parametrize("text, types", [
    ("Clinically proven to cure arthritis, with zero side effects.", {"disease", "safety", "substantiation"}),
    ("Promotes restful sleep and a calm mood.", {"structure_function"}),
    ("Take two capsules daily with food.", set()),
    ("The council meets again on Tuesday.", set()),
])
def test_sentences_carry_their_claim_types(scorer, text, types):
    [sentence] = scorer.score(text).sentences
    assert set(sentence["claim_types"]) == types
    assert set(sentence["type_probabilities"]) == set(CLAIM_TYPES)
    assert all(sentence["type_probabilities"][t] >= 0.5 for t in types)


def test_a_text_lists_the_types_of_its_sentences_in_a_fixed_order(scorer):
    result = scorer.score("No side effects. Cures gout. Take with food.")
    assert result.claim_types == [t for t in CLAIM_TYPES if t in {"disease", "safety"}]


def _policy_file(tmp_path, body):
    path = tmp_path / "mine.toml"
    path.write_text(body)
    return path


def test_a_user_policy_file_is_used_on_the_command_line(tmp_path):
    path = _policy_file(tmp_path, 'name = "mine"\n\n[[rules]]\nname = "any-safety"\ndecision = "block"\n'
                                  'types = ["safety"]\n')
    done = subprocess.run([str(BIN), "score", "--json", "--policy", str(path), "Gentle and non-habit-forming."],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert (record["decision"], record["rule"], record["policy"]) == ("block", "mine/any-safety", "mine")


@pytest.mark.parametrize("body, message", [
    ('name = "x"\n[[rules]]\nname = "a"\ndecison = "block"\n', "line 4: unknown key 'decison'"),
    ('name = "x"\n[[rules]]\nname = "a"\ndecision = "ban"\n', "line 4: rule 'a': 'decision' must be one of"),
    ('name = "x"\n[[rules]]\nname = "a"\ndecision = "block"\n\n[[rules]]\nname = "b"\ndecision = "review"\n'
     'types = ["diseases"]\n', "line 9: rule 'b': 'types' must be a non-empty list"),
    ('name = "x"\n[[rules]]\nname = "a"\ndecision = "block"\nrisk_at_least = 2\n', "line 5: rule 'a': 'risk_at_least'"),
    ('name = "x"\n[[rules]]\nname = "a"\ndecision = "block"\nhedged = "yes"\n', "line 5: rule 'a': 'hedged' must be"),
    ('name = "x"\ncolour = "red"\n[[rules]]\nname = "a"\ndecision = "block"\n', "line 2: unknown key 'colour'"),
    ('name = "x"\n', "needs at least one [[rules]] table"),
    ('name = "x"\n[[rules]\n', "not valid TOML"),
])
def test_a_bad_policy_file_is_a_one_line_error_naming_the_key_and_line(tmp_path, body, message):
    with pytest.raises(PolicyError, match="mine.toml: .*" + message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        load_policy(_policy_file(tmp_path, body))
    done = subprocess.run([str(BIN), "score", "--policy", str(tmp_path / "mine.toml"), "hi"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_an_unknown_policy_name_lists_the_shipped_ones():
    with pytest.raises(PolicyError, match="no policy 'us'.*default, editorial, strict-eu, us-dshea"):
        load_policy("us")


def test_a_user_policy_may_not_take_a_shipped_policys_name(tmp_path):
    path = _policy_file(tmp_path, '\nname = "us-dshea"\n[[rules]]\nname = "a"\ndecision = "allow"\n')
    with pytest.raises(PolicyError, match="mine.toml: line 2: name 'us-dshea' is a shipped policy's"):
        load_policy(path)


def test_rule_names_are_unique_within_a_policy():
    with pytest.raises(PolicyError, match="line 6: rule name 'a' is used twice"):
        parse_policy('name = "x"\n[[rules]]\nname = "a"\ndecision = "block"\n[[rules]]\nname = "a"\n'
                     'decision = "allow"\n', "x.toml")


def test_policy_travels_through_moderate_batch_and_check(tmp_path):
    text = "May help prevent colds and flu."
    done = subprocess.run([str(BIN), "moderate", "--policy", "us-dshea"], input=json.dumps({"id": 1, "text": text}),
                          capture_output=True, text=True, timeout=120)
    assert json.loads(done.stdout)["rule"] == "us-dshea/disease-claim"

    source = tmp_path / "in.csv"
    source.write_text(f"sku,title\n1,{text}\n2,Take with food.\n")
    out = tmp_path / "out.csv"
    done = subprocess.run([str(BIN), "batch", str(source), "-o", str(out), "--text-column", "title", "--quiet",
                           "--policy", "us-dshea"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = out.read_text().splitlines()
    assert "overclaim_rule" in lines[0] and "us-dshea/disease-claim" in lines[1] and "disease" in lines[1]

    page = tmp_path / "page.md"
    page.write_text(f"# Elderberry\n\n{text}\n")
    done = subprocess.run([str(BIN), "check", "--policy", "us-dshea", str(page)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "block by us-dshea/disease-claim, types disease" in done.stdout


def test_http_requests_name_a_policy_and_the_server_lists_them(server, scorer):
    text = "May help prevent colds and flu."
    status, _, body = server.post("/v1/score", {"text": text, "policy": "us-dshea"})
    assert status == 200 and body == scorer.score(text, policy="us-dshea").to_dict()
    status, _, body = server.post("/v1/moderate", {"items": [{"id": "a", "text": text}], "policy": "strict-eu"})
    assert status == 200 and body["results"][0]["rule"] == "strict-eu/disease-claim"
    status, _, body = server.post("/v1/score", {"text": text, "policy": "/etc/passwd"})
    assert status == 422 and "policy" in body["error"]
    status, _, body = server.request("GET", "/v1/policies")
    assert status == 200 and body["default"] == "default"
    assert [p["name"] for p in body["policies"]] == list(shipped_policies())


def test_the_readme_documents_every_shipped_policy_and_condition():
    readme = (corpus.ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Policies"):readme.index("## Moderation hook")]
    assert all(f"`{name}`" in section for name in shipped_policies())
    assert all(f"`{key}`" in section for key in CONDITIONS)
