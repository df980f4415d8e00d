// The paste-and-score page. Under the default policy it asks the server to score once (POST /v1/score) and
// decides in the page from the returned risks, so moving a threshold re-decides every sentence without scoring
// again. Any other policy weighs more than the risk (claim types, hedging, the citation), so the server decides:
// the page sends the policy and its thresholds, and scores again when a slider is released.
// What the page says about the model (its thresholds, the text limit, the reasons and cue names in words) comes from
// GET /v1/model, where the package states it once.
"use strict";

const EXAMPLE = [
  "Kratom and Anxiety: A Double-Edged Sword",
  "Some users report reduced anxiety symptoms after consuming kratom, especially with lower to moderate doses. " +
  "Preliminary evidence suggests kratom may support emotional balance by influencing serotonin pathways. " +
  "Kratom offers relief from chronic pain without the side effects of prescription opioids. " +
  "A study published in the Journal of Clinical Psychopharmacology (2019) reported that kratom is a game-changer " +
  "for opioid withdrawal. More research is needed to understand its long-term effects.",
  "",
  "Our clinically proven ashwagandha gummies melt away stress and cure anxiety in just 7 days, with no side effects.",
  "Take two gummies daily with food. Keep out of reach of children.",
].join("\n");

const $ = (id) => document.getElementById(id);
const state = { model: null, maxChars: Infinity, reasons: {}, cues: {}, record: null, text: "", spans: [], selected: -1,
  policies: {}, serverPolicy: "default" };

function policy() {
  return $("policy").value;
}

function inPage() {
  return policy() === "default";
}

function thresholds() {
  return { review: Number($("review-threshold").value), block: Number($("block-threshold").value) };
}

function decide(risk, cuts) {
  if (risk >= cuts.block) return "block";
  if (risk >= cuts.review) return "review";
  return "allow";
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

// The server counts characters as Python does (code points); JavaScript strings count UTF-16 units.
function utf16Offsets(text) {
  const offsets = [0];
  let position = 0;
  for (const char of text) {
    position += char.length;
    offsets.push(position);
  }
  return offsets;
}

async function loadModel() {
  try {
    const reply = await fetch("/v1/model");
    if (!reply.ok) throw new Error(`the server answered ${reply.status}`);
    const body = await reply.json();
    state.model = body.model;
    state.maxChars = body.max_chars;
    state.reasons = Object.fromEntries(body.reasons.map((reason) => [reason.name, reason]));
    state.cues = body.cues;
    $("max-chars").textContent = state.maxChars.toLocaleString("en");
    for (const slider of [$("review-threshold"), $("block-threshold")]) slider.disabled = false;
    resetThresholds();
    await loadPolicies();
  } catch (error) {
    showError(`Cannot reach the overclaim server (${error.message}). Is 'overclaim serve' running?`);
  }
}

async function loadPolicies() {
  const reply = await fetch("/v1/policies");
  if (!reply.ok) return;
  const body = await reply.json();
  const select = $("policy");
  select.replaceChildren(...body.policies.map((p) => {
    state.policies[p.name] = p.description;
    const option = document.createElement("option");
    option.value = p.name;
    option.textContent = p.name;
    return option;
  }));
  // The server's own policy may be a file of its operator's; a request names a policy only to ask for another.
  state.serverPolicy = body.default;
  select.value = body.default;
  $("policy-description").textContent = state.policies[body.default];
}

function onPolicy() {
  $("policy-description").textContent = state.policies[policy()] || "";
  if (state.record) requestScore(state.text);
}

function resetThresholds() {
  if (!state.model) return;
  $("review-threshold").value = state.model.thresholds.review;
  $("block-threshold").value = state.model.thresholds.block;
  onThresholds();
  if (state.record && !inPage()) requestScore(state.text);
}

async function score(event) {
  event.preventDefault();
  await requestScore($("text").value);
}

async function requestScore(text) {
  if (!text.trim()) {
    showError("Paste some text first.");
    return;
  }
  if ([...text].length > state.maxChars) {
    showError(`The text has ${[...text].length.toLocaleString("en")} characters; the limit is ` +
      `${state.maxChars.toLocaleString("en")}. Split it, or score files with 'overclaim batch'.`);
    return;
  }
  const button = $("score");
  button.disabled = true;
  button.textContent = "Scoring…";
  try {
    // In the page, reasons are asked for at every risk (review 0), and the page shows claim reasons from its own
    // review threshold; another policy is applied by the server at the page's thresholds.
    const cuts = inPage() ? { review: 0, block: 1 } : thresholds();
    const reply = await fetch("/v1/score", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, thresholds: cuts,
        ...(policy() === state.serverPolicy ? {} : { policy: policy() }) }),
    });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(body.error || `the server answered ${reply.status}`);
    showError("");
    state.record = body;
    state.text = text;
    render();
  } catch (error) {
    const offline = error instanceof TypeError;
    showError(offline ? `Cannot reach the overclaim server (${error.message}). Is 'overclaim serve' running?`
      : `Not scored: ${error.message}`);
  } finally {
    button.disabled = false;
    button.textContent = "Score";
  }
}

function render() {
  const { record, text } = state;
  const offsets = utf16Offsets(text);
  const fragment = document.createDocumentFragment();
  state.spans = [];
  state.selected = -1;
  let done = 0;
  record.sentences.forEach((sentence, index) => {
    const start = offsets[sentence.start], end = offsets[sentence.end];
    if (start > done) fragment.append(text.slice(done, start));
    const span = document.createElement("span");
    span.className = "sentence";
    span.tabIndex = 0;
    span.setAttribute("role", "button");
    span.dataset.index = index;
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.className = "visually-hidden";
    span.append(badge, label, text.slice(start, end));
    fragment.append(span);
    state.spans.push(span);
    done = end;
  });
  if (done < text.length) fragment.append(text.slice(done));
  const rendered = $("rendered");
  rendered.replaceChildren(fragment);
  $("result").hidden = false;
  $("detail").hidden = true;
  redecide();
}

function redecide() {
  if (!state.record) return;
  const cuts = thresholds();
  const counts = { allow: 0, review: 0, block: 0 };
  state.record.sentences.forEach((sentence, index) => {
    const decision = inPage() ? decide(sentence.risk, cuts) : sentence.decision;
    counts[decision] += 1;
    const span = state.spans[index];
    span.className = `sentence ${decision}` + (index === state.selected ? " selected" : "");
    span.dataset.decision = decision;
    span.firstChild.textContent = decision === "block" ? "!" : decision === "review" ? "?" : "";
    span.firstChild.hidden = decision === "allow";
    span.children[1].textContent = `(${decision}, risk ${sentence.risk.toFixed(2)}) `;
  });
  const risk = state.record.risk;
  const overall = inPage() ? decide(risk, cuts) : state.record.decision;
  const summary = $("summary");
  summary.replaceChildren();
  const badge = document.createElement("span");
  badge.className = `decision ${overall}`;
  badge.id = "overall-decision";
  badge.textContent = overall;
  summary.append(badge, ` risk ${risk.toFixed(2)} · ${state.record.sentences.length} sentences: ` +
    `${counts.block} block, ${counts.review} review, ${counts.allow} allow · citation: ${state.record.citation}` +
    (state.record.truncated ? " · text truncated" : ""));
  if (state.selected >= 0) showDetail(state.selected);
}

function select(index) {
  if (state.selected >= 0) state.spans[state.selected].classList.remove("selected");
  state.selected = index;
  state.spans[index].classList.add("selected");
  showDetail(index);
}

function showDetail(index) {
  const sentence = state.record.sentences[index];
  const cuts = thresholds();
  const decision = inPage() ? decide(sentence.risk, cuts) : sentence.decision;
  const reasons = inPage() ? sentence.reasons.filter((r) => state.reasons[r].kind !== "claim" ||
    sentence.risk >= cuts.review) : sentence.reasons;
  $("detail-text").textContent = sentence.text;
  $("detail-decision").textContent = decision;
  $("detail-rule").textContent = inPage() ? "default: risk against the thresholds on this page" : sentence.rule;
  $("detail-claim-types").textContent = sentence.claim_types.length ? sentence.claim_types.join(", ") : "none";
  $("detail-risk").textContent = sentence.risk.toFixed(4);
  $("detail-reasons").replaceChildren(...(reasons.length ? reasons.map(reasonItem) : ["none"]));
  $("detail-citation").textContent = sentence.citation;
  $("detail-hedging").textContent = sentence.hedging.toFixed(3);
  const row = $("detail-probabilities").tBodies[0].rows[0];
  row.replaceChildren(...["hedged", "neutral", "overclaim"].map((label) => {
    const cell = document.createElement("td");
    cell.textContent = (sentence.probabilities[label] ?? 0).toFixed(3);
    return cell;
  }));
  $("detail-terms").replaceChildren(...sentence.terms.map(([term, weight]) => {
    const item = document.createElement("li");
    item.textContent = `${termInWords(term)} ${weight >= 0 ? "+" : "−"}${Math.abs(weight).toFixed(2)}`;
    item.title = term;
    return item;
  }));
  $("detail").hidden = false;
}

// A reason in a moderator's words, with the code that 'overclaim check' and the API use.
function reasonItem(name) {
  const reason = state.reasons[name];
  const item = document.createElement("span");
  item.className = "reason";
  item.textContent = reason ? `${reason.moderator} (${reason.code})` : name;
  item.title = reason ? `${name}: ${reason.meaning}` : name;
  return item;
}

// A model term in words: a cue by what it looks for, a character n-gram as the letters, a word or word pair quoted.
function termInWords(term) {
  if (term.startsWith("cue:")) return state.cues[term.slice(4)] || term;
  if (term.startsWith("~")) return `the letters “${term.slice(1)}”`;
  return `the words “${term}”`;
}

function onThresholds(event) {
  const review = $("review-threshold"), block = $("block-threshold");
  // Keep review <= block: the slider being moved pushes the other one.
  if (Number(review.value) > Number(block.value)) {
    if (event && event.target === block) review.value = block.value;
    else block.value = review.value;
  }
  $("review-value").textContent = Number(review.value).toFixed(2);
  $("block-value").textContent = Number(block.value).toFixed(2);
  redecide();
}

function sentenceEvent(event) {
  const span = event.target.closest(".sentence");
  if (!span || !span.dataset.index) return;
  if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
  event.preventDefault();
  select(Number(span.dataset.index));
}

function updateCount() {
  const count = [...$("text").value].length;
  const over = count > state.maxChars;
  $("char-count").textContent = `${count.toLocaleString("en")} characters` +
    (over ? ` — over the limit of ${state.maxChars.toLocaleString("en")}` : "");
}

$("score-form").addEventListener("submit", score);
$("example").addEventListener("click", () => { $("text").value = EXAMPLE; updateCount(); $("text").focus(); });
$("clear").addEventListener("click", () => { $("text").value = ""; updateCount(); $("text").focus(); });
$("text").addEventListener("input", updateCount);
$("review-threshold").addEventListener("input", onThresholds);
$("block-threshold").addEventListener("input", onThresholds);
$("reset-thresholds").addEventListener("click", resetThresholds);
$("policy").addEventListener("change", onPolicy);
for (const slider of [$("review-threshold"), $("block-threshold")]) {
  slider.addEventListener("change", () => { if (state.record && !inPage()) requestScore(state.text); });
}
$("rendered").addEventListener("click", sentenceEvent);
$("rendered").addEventListener("keydown", sentenceEvent);
loadModel();
