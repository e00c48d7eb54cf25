"""Markdown pages of the documentation site, generated from a verify run and the audit data.

Every page is a pure function of its inputs (the JSON contract of
:meth:`invariants.verify.VerifyReport.to_dict`, the audit JSON contract, library constants): no
timings, dates, absolute paths or host names, so regenerating the pages on another machine gives the
same text and a test can detect drift between the committed pages and the code.

Pages (paths relative to the docs folder):

- ``index.md``: what the project is, the verdicts, how to reproduce and cite.
- ``claims/index.md``: every claim (ID, verdict, one-line statement, evidence passed).
- ``claims/<ID>.md``: one claim: verdict, statement, scope, readings (each with its verdict and links to the
  evidence that settles it), conditions, seed quotes, derivation (with the SymPy expressions as LaTeX),
  counterexample, evidence (each with its mutant: what makes it fail), figures, reproduce command, citation.
- ``seed.md``: the seed text sentence by sentence, with the claims that state each precisely.
- ``methods.md``: statistical tests, α, power, sample sizes, the reference network's exact kernel.
- ``figures.md``: every figure with its caption and claims.
- ``audit/index.md`` and ``audit/<framework>.md``: the initializer audits.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from invariants.audit.determinism import DIFFERENT_SEEDS, ISOLATION, SAME_SEED
from invariants.render.audit import detects
from invariants.report.markdown import code, front_matter, g, math_inline, table, text

#: Meaning of each verdict (as in the README).  A verdict applies to the claim's precise statement.
VERDICT_MEANING = {
    "proved": "a symbolic proof valid for every size the statement names (symbolic dimensions, index-free "
              "matrix calculus, induction over layers), backed by exact checks",
    "verified": "established by properties, experiments or audits of a framework's code, at the sizes, "
                "architectures, optimizers and horizons the statement names",
    "conditional": "true under the stated conditions and false outside them; the evidence shows both",
    "refuted": "false as stated; the evidence includes a minimal counterexample",
}
#: What the verdict table says about verdicts and readings (home page, claims index, README).
VERDICT_SCOPE_NOTE = (
    "A verdict applies to the claim's precise statement within its scope, not to a looser paraphrase. Where a "
    "seed sentence has several reasonable readings, the claim lists them, each with its own verdict and the "
    "evidence that settles it."
)
#: Admonition type (mkdocs-material) used for each verdict's box.
VERDICT_BOX = {"proved": "success", "verified": "success", "conditional": "warning", "refuted": "failure"}

KIND_MEANING = {
    "symbolic": "a SymPy derivation or exact computation",
    "property": "a Hypothesis property checked on generated examples (derandomized, so every run draws the same "
                "examples)",
    "counterexample": "a concrete, small example that refutes a statement or marks where it stops holding",
    "experiment": "a numpy experiment on the reference network with fixed seeds",
}

FAMILY_NAMES = {
    "SYM": "symmetry",
    "BIAS": "biases",
    "VAR": "variance scaling",
    "INIT": "initialization in general",
    "DEF": "definitions",
    "RES": "residual networks",
    "NORM": "normalization",
}


@dataclass(frozen=True)
class FigureRef:
    """A figure as a page shows it: path relative to the docs folder, title, caption, note of this run."""

    name: str
    path: str
    title: str
    caption: str
    note: str = ""
    claims: tuple[str, ...] = ()
    refresh: str = ""


@dataclass(frozen=True)
class FormulaLine:
    """One row of a claim's formula table, already rendered (see :mod:`invariants.report.formulas`)."""

    quantity: str
    derived_latex: str
    derived_text: str
    published_latex: str | None
    published_text: str | None
    source: str
    equal: bool | None


def cite_as(version: str, claim_id: str) -> str:
    """The stable citation of one claim: package version plus claim ID."""
    return f"invariants {version}, claim {claim_id}"


def reproduce_command(claim_id: str) -> str:
    return f"invariants verify --only {claim_id}"


def _family(claim_id: str) -> str:
    return FAMILY_NAMES.get(claim_id.split("-", 1)[0], claim_id.split("-", 1)[0])


def _status(claim: dict[str, Any]) -> str:
    n = len(claim["evidence"])
    ok = sum(1 for e in claim["evidence"] if e["passed"])
    return f"{ok}/{n}" + ("" if ok == n else " FAIL")


def _box(kind: str, title: str, body: str) -> str:
    """A mkdocs-material admonition (``pymdownx`` syntax); ``body`` is Markdown."""
    indented = "\n".join(("    " + line) if line else "" for line in body.splitlines())
    return f'!!! {kind} "{title}"\n\n{indented}\n'


#: CSS class of the marker that tints a table row (stylesheet: ``tr:has(.row-...)``), per audit verdict
ROW_CLASS = {"deviates": "row-deviates", "error": "row-error", "documented-deviation": "row-documented"}


def mark_row(css_class: str, cell: str) -> str:
    """``cell`` wrapped in a marker span whose class tints its whole table row (see the stylesheet,
    :mod:`invariants.report.sitefiles`); the cell's own text still says what is wrong, for readers
    without colour or CSS."""
    return f'<span class="{css_class}">{cell}</span>'


def nav_title(claim_id: str, title: str, limit: int = 56) -> str:
    """The short label of a claim in the site navigation: ``ID: lead of the title``.

    The lead is the title up to its first ``: ``, ``; `` or `` — `` (when that leaves at least 12
    characters), cut at a word boundary to at most ``limit`` characters with ``…`` when longer; the
    page's heading keeps the full title.
    """
    lead = " ".join(str(title).split())
    for sep in (": ", "; ", " — "):
        head = lead.split(sep, 1)[0]
        if len(head) >= 12:
            lead = head
    if len(lead) > limit:
        cut = lead[:limit].rsplit(" ", 1)[0].rstrip(",;:")
        lead = cut + "…"
    return f"{claim_id}: {lead}"


def _rel(from_page: str, target: str) -> str:
    """Relative link from one docs page to another docs file (both relative to the docs folder)."""
    depth = from_page.count("/")
    return "../" * depth + target


# ------------------------------------------------------------------------------------------ home


def home_page(report: dict[str, Any], figures: Sequence[FigureRef], frameworks: Sequence[str]) -> str:
    version = report["version"]
    claims = report["claims"]
    counts = {v: sum(1 for c in claims if c["verdict"] == v) for v in VERDICT_MEANING}
    ok = sum(1 for c in claims if all(e["passed"] for e in c["evidence"]))
    rows = [[f"`{v}`", str(counts[v]), text(VERDICT_MEANING[v])] for v in VERDICT_MEANING]
    lines = [
        front_matter(title="Home"),
        "",
        f"# invariants {text(version)}: verified claims about weight initialization",
        "",
        "`invariants` states the claims of a short text about neural-network weight initialization "
        "([the seed text](seed.md)) precisely, with all their conditions, and backs each with executable "
        "evidence: SymPy derivations, Hypothesis properties on a numpy reference network, minimal "
        "counterexamples and experiments. A verdict stands only if its evidence passes.",
        "",
        f"This site was generated by `invariants report` from a run of every claim's evidence with "
        f"invariants {text(version)}: **{ok} of {len(claims)} claims** had all their evidence pass.",
        "",
        "Verdicts do not depend on the machine; some figures do, in their last digits: defects at the 1e-16 level, "
        "and the step counts of runs that start at a stationary point, come out differently on CPUs whose SIMD or "
        "BLAS kernels round differently (an AVX-512 and an AVX2 machine, say). The platform this build computed on "
        "is recorded in `data/platform.json`.",
        "",
        "## Verdicts",
        "",
        table(["verdict", "claims", "meaning"], rows, "lrl"),
        "",
        text(VERDICT_SCOPE_NOTE),
        "",
        "## Contents",
        "",
        "- [All claims](claims/index.md): ID, verdict and one-line statement; each claim has its own page with "
        "the exact statement, conditions, derivation, evidence, figures and the command that reproduces it.",
        "- [The seed text](seed.md), sentence by sentence, with the claims that state each sentence precisely.",
        "- [Methods](methods.md): the statistical tests, false-alarm rates, power and sample sizes, and why the "
        "reference network does not use BLAS.",
        "- [Figures](figures.md): " + "; ".join(text(f.title.split(":")[0]) for f in figures) + ".",
        "- [Initializer audits](audit/index.md) of " + ", ".join(frameworks) + ": textbook vs framework fans, "
        "expected vs observed variance.",
        "- [Width and depth scaling](scaling.md): `invariants scale-check` on a GPT-2-style and a ResNet-style "
        "family (does each tensor stay Θ(1) as the width grows, SP vs μP), and on ReLU and tanh MLPs along depth: "
        "the signal and the gradient against the mean-field depth scales.",
        "",
        "## Reproduce",
        "",
        "```",
        "python3 -m pip install -e .",
        "invariants verify                      # every claim",
        "invariants verify --only SYM-CONST-01  # one claim",
        "python3 -m pip install -e '.[docs]'",
        "invariants report --out docs           # regenerate this site",
        "mkdocs build --strict",
        "```",
        "",
        "## Cite",
        "",
        f"Cite one claim by its ID and the package version: *{text(cite_as(version, 'SYM-CONST-01'))}*. "
        "IDs are stable: a published ID is never reused or renamed. The package itself is described in "
        "`CITATION.cff`.",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ claims


def claims_index(report: dict[str, Any]) -> str:
    claims = report["claims"]
    rows = []
    for c in claims:
        status = _status(c)
        rows.append([f"[{c['id']}]({c['id']}.md)", f"`{c['verdict']}`", text(c["title"]),
                     mark_row("row-deviates", status) if "FAIL" in status else status])
    counts = ", ".join(f"{sum(1 for c in claims if c['verdict'] == v)} {v}" for v in VERDICT_MEANING)
    lines = [
        front_matter(title="All claims"),
        "",
        "# All claims",
        "",
        f"{len(claims)} claims ({counts}), as verified by invariants {text(report['version'])}. The one-line "
        "statement is the claim's title; each page gives the exact statement and its conditions. "
        "*Evidence* counts the pieces of evidence that support the verdict in this build.",
        "",
        table(["ID", "verdict", "statement (one line)", "evidence"], rows, "lllr"),
        "",
        "Verdicts: " + "; ".join(f"`{v}`: {text(m)}" for v, m in VERDICT_MEANING.items()) + ". "
        + text(VERDICT_SCOPE_NOTE),
        "",
    ]
    return "\n".join(lines)


def _formula_table(rows: Sequence[FormulaLine]) -> str:
    """Derived expression as mathematics (MathML, :func:`~invariants.report.markdown.math_inline`) plus
    SymPy's plain text, which can be copied; the published formula as plain text.  A published formula
    SymPy finds not identical tints its row."""
    has_published = any(r.published_latex is not None for r in rows)
    out = []
    for r in rows:
        derived = f"{math_inline(r.derived_latex)}<br>{code(r.derived_text)}"
        if has_published:
            if r.published_text is None:
                published = "-"
            else:
                same = "identical" if r.equal else mark_row("row-deviates", "**NOT identical**")
                published = f"{code(r.published_text)}<br>{same}"
            out.append([text(r.quantity), derived, published, text(r.source)])
        else:
            out.append([text(r.quantity), derived, text(r.source)])
    if has_published:
        return table(["quantity", "derived by SymPy", "published (SymPy's verdict)", "source"], out, "llll")
    return table(["quantity", "SymPy", "notes"], out, "lll")


def evidence_anchor(i: int) -> str:
    """The id of the i-th (1-based) evidence heading of a claim page (set with ``attr_list``), which the
    readings table links to."""
    return f"evidence-{i}"


def _readings_lines(readings: Sequence[dict[str, Any]], evidence: Sequence[dict[str, Any]]) -> list[str]:
    """The "Readings" section: one row per reading of the seed sentence (reading, its verdict, links to the
    evidence that settles it, numbered as in the Evidence section); empty when the claim lists none."""
    if not readings:
        return []
    number = {e["name"]: i for i, e in enumerate(evidence, start=1)}
    rows = []
    for r in readings:
        known = sorted(number[n] for n in r["evidence"] if n in number)
        links = ", ".join([f"[{i}](#{evidence_anchor(i)})" for i in known]
                          + [text(n) for n in r["evidence"] if n not in number])
        rows.append([text(r["reading"]), f"`{r['verdict']}`", links])
    return ["## Readings", "",
            "The seed sentence has more than one reasonable reading; each has its own verdict, settled by the "
            "evidence listed (numbers as in the Evidence section below). The verdict above applies to the "
            "precise statement.", "",
            table(["reading", "verdict", "evidence"], rows, "lll"), ""]


def claim_page(claim: dict[str, Any], version: str, formulas: Sequence[FormulaLine] = (),
               figures: Sequence[FigureRef] = ()) -> str:
    """The page of one claim (``claim`` is one entry of the verify JSON's ``claims``)."""
    cid, verdict = claim["id"], claim["verdict"]
    page = f"claims/{cid}.md"
    evidence = claim["evidence"]
    n_ok = sum(1 for e in evidence if e["passed"])
    all_ok = n_ok == len(evidence)
    lines = [front_matter(title=nav_title(cid, claim["title"])), "", f"# {cid}: {text(claim['title'])}", ""]

    box_body = (f"**Verdict: {verdict}** ({text(VERDICT_MEANING.get(verdict, verdict))}).\n\n"
                f"Evidence: {n_ok} of {len(evidence)} pieces support the verdict in this build "
                f"(invariants {text(version)}).")
    if all_ok:
        lines.append(_box(VERDICT_BOX.get(verdict, "note"), f"Verdict: {verdict}", box_body))
    else:
        lines.append(_box("danger", "Evidence failed in this build",
                          box_body + "\n\nThe registered verdict is **not** supported until every piece of "
                          "evidence passes; see the failed evidence below."))
    lines += ["## Statement", "", text(claim["statement"], block=True), ""]
    if claim.get("scope"):
        lines += ["## Scope", "", text(claim["scope"], block=True), ""]
    lines += _readings_lines(claim.get("readings") or (), evidence)
    if claim["conditions"]:
        lines += ["## Conditions", ""]
        lines += [f"- {text(c, block=True)}" for c in claim["conditions"]]
        lines.append("")
    lines += ["## What the seed text says", ""]
    for q in claim["seed_quotes"]:
        lines += [f"> {text(q, block=True)}", ""]
    lines.append(f"Quoted verbatim from [the seed text]({_rel(page, 'seed.md')}); the statement above is the "
                 "precise version the verdict applies to.")
    lines.append("")
    if claim.get("derivation") or formulas:
        lines += ["## Derivation", ""]
        if claim.get("derivation"):
            lines += [text(claim["derivation"], block=True), ""]
        if formulas:
            lines += ["The expressions below are computed by SymPy in this build (not typed in) and compared "
                      "with the published formulas; each is shown as mathematics and as SymPy's plain text.", "",
                      _formula_table(formulas), ""]
    counter = [e for e in evidence if e["kind"] == "counterexample"]
    if verdict == "refuted" and counter:
        lines += ["## Counterexample", ""]
        for e in counter:
            mark = "" if e["passed"] else " (FAILED in this build)"
            lines += [f"**{text(e['name'])}**{mark}", "", text(e["detail"], block=True), ""]
    lines += ["## Evidence", "",
              "Each piece of evidence runs on every `invariants verify`; *passed* means it supports the verdict "
              "(for a refuted claim: the counterexample really refutes it). Details are those of this build.", ""]
    shown_above = verdict == "refuted"
    for i, e in enumerate(evidence, start=1):
        status = "passed" if e["passed"] else "FAILED"
        detail = ("The counterexample above." if shown_above and e["kind"] == "counterexample"
                  else text(e["detail"], block=True))
        lines += [f"### {i}. {text(e['name'])} {{: #{evidence_anchor(i)} }}", "",
                  f"*{e['kind']}* ({text(KIND_MEANING.get(e['kind'], e['kind']))}) — **{status}**", "",
                  detail, ""]
        if e.get("mutant"):
            lines += [f"*Fails when:* {text(e['mutant'], block=True)} (its mutation self-test: this evidence, run "
                      "on that known-bad input, must fail).", ""]
    if figures:
        lines += ["## Figures", ""]
        for f in figures:
            lines += [f"[![{text(f.title)}]({_rel(page, f.path)})]({_rel(page, f.path)})", "",
                      f"*{text(f.title)}.* {text(f.caption)}",
                      f"([all figures]({_rel(page, 'figures.md')}))", ""]
    lines += ["## Reproduce", "", "```", reproduce_command(cid), "```", "",
              f"(`python3 -m invariants verify --only {cid}` from a checkout; add `--json -` for the JSON report.)",
              "", "## Cite", "",
              f"Cite as: **{text(cite_as(version, cid))}**.", "",
              "```bibtex",
              _bibtex(cid, claim["title"], version, verdict),
              "```", ""]
    return "\n".join(lines)


BIBTEX_WIDTH = 78


def _bibtex(cid: str, title: str, version: str, verdict: str) -> str:
    """A ``@misc`` entry whose long fields are wrapped at :data:`BIBTEX_WIDTH` columns (BibTeX reads a line
    break inside a field as a space), so the block is readable on the page without scrolling."""
    import textwrap

    safe = "".join(c for c in " ".join(title.split()) if c not in "{}\\%&#")

    def field(name: str, value: str) -> list[str]:
        return textwrap.wrap(f"  {name:<12} = {{{value}}},", BIBTEX_WIDTH, subsequent_indent=" " * 17,
                             break_long_words=False, break_on_hyphens=False)

    return "\n".join([
        f"@misc{{invariants-{version}-{cid},",
        *field("title", f"{{invariants}} {version}, claim {cid}: {safe}"),
        *field("note", f"Verdict: {verdict}. Reproduce with: invariants verify --only {cid}"),
        *field("version", version),
        "}",
    ])


# ------------------------------------------------------------------------------------------ seed


def seed_page(sentences: Sequence[str], claims: Sequence[dict[str, Any]]) -> str:
    """The seed text, one sentence per row, with the claims quoting it."""
    quoted: dict[str, list[str]] = {}
    for c in claims:
        for q in c["seed_quotes"]:
            quoted.setdefault(q, []).append(c["id"])
    rows = []
    for i, s in enumerate(sentences, start=1):
        ids = sorted({cid for q, cids in quoted.items() if q in s or s in q for cid in cids})
        if ids:
            links = ", ".join(f"[{cid}](claims/{cid}.md)" for cid in ids)
        elif s.rstrip().endswith("?"):
            links = "(a question: nothing asserted)"
        else:
            links = "**not covered by any claim**"
        rows.append([str(i), text(s), links])
    lines = [
        front_matter(title="Seed text"),
        "",
        "# The seed text",
        "",
        "The claims come from a short text about weight initialization (`shared/seed/weight-init-claims.txt`, "
        "shipped with the package). Below is every sentence of it, in order, and the claims that state it "
        "precisely. Claims quote the seed verbatim, character for character.",
        "",
        table(["#", "sentence", "claims"], rows, "rll"),
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ figures


def figures_page(figures: Sequence[FigureRef], pending: Sequence[tuple[str, str, str, str]] = ()) -> str:
    """Every figure with its caption and claims; ``pending``: ``(name, title, why, refresh command)`` of
    figures not drawn."""
    lines = [front_matter(title="Figures"), "", "# Figures", "",
             "Every figure is regenerated by `invariants report` from the same library code the claims' evidence "
             "runs, with fixed seeds. The numbers behind each figure are in `figures/<name>.json` next to it.", ""]
    for f in figures:
        claims = ", ".join(f"[{cid}](claims/{cid}.md)" for cid in f.claims)
        lines += [f"## {text(f.title)}", "", f"[![{text(f.title)}]({f.path})]({f.path})", "",
                  text(f.caption, block=True), ""]
        if f.note:
            lines += [f"In this build: {text(f.note)}", ""]
        if f.refresh:
            lines += [f"Drawn from stored measurements; to measure again: {code(f.refresh)}, then "
                      "`invariants report`.", ""]
        lines += [f"Data: [`{f.path[:-4]}.json`]({f.path[:-4]}.json). Claims: {claims or '-'}.", ""]
    for name, title, why, refresh in pending:
        lines += [f"## {text(title)}", "", f"*Not drawn in this build:* {text(why)}."
                  + (f" To measure it: {code(refresh)}, then `invariants report`." if refresh else ""), ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ methods

def methods_page(facts: dict[str, Any], bench: dict[str, Any] | None = None) -> str:
    """The methods page; ``facts`` holds the numbers computed from the library (see ``site.method_facts``),
    ``bench`` the recorded benchmark figures (:func:`invariants.report.reliability.load`)."""
    from invariants.report import architecture, reliability

    ss_rows = [[f"{100 * e:g}%", f"{n:,}", f"{m:,}"] for e, n, m in facts["sample_sizes"]]
    lines = [
        front_matter(title="Methods"),
        "",
        "# Methods",
        "",
        "## How a verdict is established",
        "",
        "Each claim is data (ID, seed quotes, precise statement, conditions, verdict, derivation) plus small "
        "evidence functions. `invariants verify` runs every evidence function; a piece of evidence *passes* when "
        "it supports the registered verdict. An evidence function that raises counts as failed. Kinds of evidence:",
        "",
    ]
    lines += [f"- **{k}**: {text(v)}." for k, v in KIND_MEANING.items()]
    lines += [
        "",
        "A verdict applies to the claim's precise statement within its stated scope (architectures, optimizers, "
        "sizes, horizons). A `proved` claim has a symbolic proof valid for every size it names: symbolic "
        "dimensions, index-free matrix calculus, induction over layers or a generic permutation, or a written "
        "proof whose every step SymPy checks on generic symbols; SymPy at fixed small sizes is evidence, not such "
        "a proof, so a claim resting on it is `verified` and names its sizes. `verified` rests on properties, "
        "experiments and audits (a fact about a framework's code is verified by auditing that code, not proved). A "
        "`conditional` claim's evidence shows both that it holds under its conditions and that it fails outside "
        "them; a statement that is simply true within its scope is `proved` or `verified` instead. A `refuted` "
        "claim carries a minimal counterexample. Where the seed sentence has several reasonable readings, the "
        "claim's page lists them, each with its own verdict and the evidence that settles it.",
        "",
        "Every piece of evidence has a mutation self-test: a known-bad input (a mutated premise, network, "
        "optimizer, formula or data) on which it must fail, named on the claim's page (*fails when*), so that no "
        "evidence passes because it cannot fail. Exact claims are checked exactly (`numpy.array_equal`, bit for "
        "bit); where floating point forces a tolerance, it is derived (e.g. Higham's summation bound) and stated "
        "on the claim's page; a formula in a statement is compared with a measurement inside its evidence.",
        "",
        "## Architecture",
        "",
        "How a claim, an initializer and a model flow through the package, and its layers (each imports only "
        "those below it; an import-linter contract checks this):",
        "",
        architecture.markdown(),
        "",
        "## Hypothesis properties",
        "",
        f"Properties run under fixed settings: derandomized (the examples are a function of the property alone), "
        f"no example database, no deadline, at most {facts['max_examples']} examples per property (heavier ones "
        f"use fewer), no shrinking. Every run therefore checks the same examples, and a failure reports the first "
        f"failing example. To hunt for new counterexamples, run the test suite with random seeds: "
        f"`HYPOTHESIS_PROFILE=explore python3 -m pytest`. Seeds are drawn as integers and fed to "
        f"`numpy.random.default_rng`; numpy's global random state is never used.",
        "",
        "## Statistical tests",
        "",
        f"Every statistical check in the library states its false-alarm rate α (the probability of rejecting a "
        f"correct hypothesis) and the smallest effect it detects with power {facts['power']:g}. The default is "
        f"α = {facts['alpha']:g} per check.",
        "",
        "- **Exact χ² variance test** (normal samples, known mean μ): with n i.i.d. values, "
        "S = Σᵢ (xᵢ − μ)²/σ² follows χ²(n) exactly; two-sided, equal tails. "
        "Its power against a true variance (1 ± d)σ² is computed exactly from the χ² distribution.",
        "- **Hoeffding variance test** (bounded samples, distribution-free, conservative): Hoeffding (1963), "
        "Theorem 2, applied to (x − μ)² ∈ [0, B²].",
        "- **Moment variance test** (bounded non-normal laws: uniform, truncated normal): the normal limit of "
        "the mean ȳ of y = (x − μ)² with the law's kurtosis κ: z = (ȳ − σ²)/(σ²·√((κ − 1)/n)).",
        "- **Support and extreme-value tests** (exact): the sample maximum M of n draws has "
        "P(M ≤ t) = F(t)ⁿ, which detects bounds that are too narrow or too wide; a value "
        "outside a bounded law's support is impossible under the null.",
        "- **Kolmogorov–Smirnov** for the shape of the law (normal vs uniform vs truncated), with the "
        "Dvoretzky–Kiefer–Wolfowitz–Massart bound for its detectable distance; structural checks for duplicate "
        "rows, identical draws across seeds and constant tensors.",
        "",
        f"**Several checks at once.** A run of m checks splits a family-wise budget by Bonferroni's union bound: "
        f"each check runs at α = min({facts['alpha']:g}, total/m), so the probability of any false alarm in the "
        f"run is at most the total (the auditor uses total = {facts['audit_total_alpha']:g}), whatever the "
        f"dependence between the checks.",
        "",
        f"**Sample sizes.** Values needed to detect a relative variance error of ±d with power {facts['power']:g} "
        f"at α = {facts['alpha']:g}:",
        "",
        table(["d", "normal law (exact χ²)", "uniform law (moment test)"], ss_rows, "lrr"),
        "",
        f"The auditor pools fresh draws until it detects a {100 * facts['audit_rel_error']:g}% variance error with "
        f"power {facts['power']:g}: {facts['audit_n_normal']:,} values for a normal law at α = {facts['alpha']:g}, a "
        f"little more at the smaller per-check α of a large run; for bounded laws the exact extreme-value tests need far fewer, raised to at least "
        f"{facts['audit_min_bounded_n']:,} so the moment and shape tests have power too. "
        f"[The power curve](figures.md) plots these bounds with every audited tensor.",
        "",
        "**Seed determinism.** Every audited tensor is drawn twice more: " + "; ".join(
            f"{code(name)}: {text(meaning)}" for name, meaning in DETERMINISM_MEANING.items()) + ". The first two "
        "draws and the replays run with every global RNG pinned to a known state, so the comparisons are exact "
        "(bitwise; a correct initializer fails them by chance only if two different seeds give the same tensor, "
        "probability at most the largest cell probability to the power of the tensor's size), and each is counted "
        "in the Bonferroni split. A failure names its cause (for isolation, the global RNG the initializer "
        "draws from).",
        "",
        *low_precision_methods(),
        "## Signal propagation",
        "",
        "Claims about variance through depth compare one random reference network with the mean-field "
        "recursion " + text("q_(l+1) = σ_w²·E[φ(√q_l·z)²], z ~ N(0, 1)") + " (Poole et al. 2016; Schoenholz et "
        "al. 2017). Finite width makes "
        "the measured curve a multiplicative random walk around the mean-field one; its standard deviation and "
        "bias are derived layer by layer (`invariants.propagation`), and a measurement is accepted inside "
        f"bias + k·sd, with k ≈ {facts['band_k']:.2f} for depth 50 and 64 inputs (a Bonferroni split of a "
        f"false-alarm rate of {facts['band_alpha']:g} per network over layers, directions and inputs).",
        "",
        "## Why the reference network avoids BLAS",
        "",
        "Symmetry claims are about units that are *bitwise* identical, so the reference network must not create "
        "differences of its own. A BLAS matrix product accumulates its sums in an order that depends on the "
        "kernel's tiling and on the position of an element: two identical rows can be rounded differently, and "
        "permuting the inputs can change the last bits of the result. Rounding alone could then split tied units, "
        "and a test could not tell that from symmetry breaking by the initialization.",
        "",
        "The reference network's default `exact` kernel makes every output element a function of the multiset "
        "of its terms alone. From 16,384 products (m·k·n) it returns the correctly rounded dot product: an "
        "error-free transformation (Ozaki et al. 2012) cuts each row and column into integer slices on a grid "
        "set by its largest entry, multiplies the slices exactly with BLAS (every partial sum an integer below "
        "2^53) and rounds the exact sum once; below that size it forms each product with one IEEE "
        "multiplication, sorts the products by value and adds them left to right. Either way the result is the "
        "same for every position, so permuting hidden units permutes every output, gradient and optimizer state "
        "bit for bit, and tied units stay tied exactly. The `blas` "
        "kernel (numpy.matmul) is used where only statistics matter (signal propagation at width 256) and to "
        "study what rounding does to symmetric units.",
        "",
    ]
    lines += reliability.section(bench or {})
    lines += [
        "## Reproducibility of this site",
        "",
        "The pages contain no timings, dates or machine paths of the build: `invariants report` regenerates them "
        "identically, and a test fails when the committed pages differ from what the code produces. The measured "
        "figures above are rendered from their stored record (`data/benchmarks.json`), with the date and machine "
        "of the measurement. Figures are drawn with "
        "fixed seeds; their data (`figures/*.json`, 4 significant digits) are part of that comparison, the PNG "
        "pixels are not (they depend on the matplotlib and FreeType versions). Audit pages are rendered from "
        "the stored audit data in `data/audit/`, refreshed with `invariants report --audit FRAMEWORK`, so the "
        "site does not depend on which frameworks are installed where it is built; likewise the symmetry-defect "
        "figure is drawn from the stored measurements of the floating-point study (`data/fp_symmetry.json`), "
        "whose BLAS results depend on the machine that measured them.",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ audits

AUDIT_VERDICTS = ("conforms", "documented-deviation", "deviates", "error", "skipped")
AUDIT_VERDICT_MEANING = {
    "conforms": "every check passes against the textbook law (the spec on the layer's textbook fans)",
    "documented-deviation": "fails the textbook law but passes the framework's documented rule (a convention "
                            "with a reference)",
    "deviates": "fails the textbook law and no documented rule explains it; the auditor names the candidate "
                "explanation that passes",
    "error": "the initializer could not be audited (it raised or returned something unusable)",
    "skipped": "the framework is not installed",
}


def _fans(f: Any) -> str:
    if not f:
        return "-"
    return f"({', '.join(str(int(x)) for x in f)})"


#: what each seed-determinism check asserts (:mod:`invariants.audit.determinism`), for the audit pages
DETERMINISM_MEANING = {
    SAME_SEED: "two calls with the same seed (and every global RNG in the same state) give the same tensor bit for "
               "bit",
    DIFFERENT_SEEDS: "two calls with different seeds give different tensors (constant laws exempt)",
    ISOLATION: "the seed, generator or key passed is the only source of randomness: reseeding every global RNG "
               "(Python, numpy, torch, Keras, MLX) between two calls with the same seed changes nothing",
}


def determinism_summary(results: Sequence[dict[str, Any]]) -> tuple[dict[str, tuple[int, int]], list[int]]:
    """``({check: (tensors checked, failed)}, [1-based numbers of the results failing one])`` over the
    audit results' seed-determinism checks; every count 0 when the data hold none."""
    counts = {name: (0, 0) for name in DETERMINISM_MEANING}
    failing = []
    for i, r in enumerate(results, start=1):
        bad = False
        for c in r.get("checks", []):
            name = c.get("name")
            if name in counts:
                ran, failed = counts[name]
                counts[name] = (ran + 1, failed + (not c.get("passed", True)))
                bad = bad or not c.get("passed", True)
        if bad:
            failing.append(i)
    return counts, failing


def _determinism_lines(framework: str, results: Sequence[dict[str, Any]]) -> list[str]:
    counts, failing = determinism_summary(results)
    lines = ["## Seed determinism", ""]
    if not any(ran for ran, _ in counts.values()):
        return lines + [_box("warning", "not checked", f"The stored audit data of {text(framework)} hold no "
                             "seed-determinism checks (they were produced before the auditor ran them): run "
                             f"{code(f'invariants report --audit {framework}')} to check and regenerate this page."), ""]
    lines += ["Every tensor is drawn twice more to check that it is a function of its seed alone. The checks are "
              "exact (bitwise equality; a correct initializer cannot fail them by chance, except two different "
              "seeds giving the same tensor, whose probability is the p-value reported) and a failure makes the "
              "tensor `deviates` whatever its law; the cause is named under Findings.", "",
              table(["check", "asserts", "tensors", "failed"],
                    [[code(name), text(DETERMINISM_MEANING[name]), str(ran),
                      mark_row("row-deviates", f"**{failed}**") if failed else "0"]
                     for name, (ran, failed) in counts.items()], "llrr"), ""]
    if failing:
        lines += ["Failing rows of the catalogue: " + ", ".join(str(i) for i in failing)
                  + " (their causes under Findings).", ""]
    return lines


def audit_page(framework: str, payload: dict[str, Any] | None, hint: str) -> str:
    """One framework's audit page from the stored audit data (the auditor's JSON contract).

    ``payload`` is ``None`` (or has no results) when the framework has not been audited: the page then
    says ``skipped`` with the install hint.
    """
    lines = [front_matter(title=framework, hide=["navigation", "toc"]), "", f"# Audit: {framework}", ""]
    results = (payload or {}).get("results") or []
    audited = [r for r in results if r.get("verdict") != "skipped"]
    if not audited:
        # no payload: nothing was stored (a new --out folder); a payload of skipped results: the audit ran
        # where the framework was not installed, and its own message says so
        why = (" ".join(str(r.get("message", "")) for r in results)
               or f"there is no stored audit (data/audit/{framework}.json does not exist)")
        lines += [_box("note", "skipped", f"No audit data for {text(framework)}: {text(why)}.\n\n"
                       f"Install it with {code(hint)}, then run {code(f'invariants report --audit {framework}')} "
                       "to audit its catalogue and regenerate this page."), ""]
        return "\n".join(lines)
    fw_version = payload.get("framework_version") or "unknown version"
    counts = {v: sum(1 for r in results if r.get("verdict") == v) for v in AUDIT_VERDICTS}
    summary = ", ".join(f"{counts[v]} {v}" for v in AUDIT_VERDICTS if counts[v])
    alpha, total = payload.get("alpha"), payload.get("total_alpha")
    cfg = payload.get("config") or {}
    lines += [
        f"The catalogue of {text(framework)} {text(fw_version)} initializers and layer defaults, audited by "
        f"invariants {text(payload.get('invariants_version', '?'))}: {len(results)} tensors ({summary}).",
        "",
    ]
    if alpha:
        lines += [
            f"Each check ran at α = {g(alpha, 3)} ({payload.get('n_checks', '?')} checks, family-wise false-alarm "
            f"rate ≤ {g(total, 3)}); sample sizes detect a {100 * float(cfg.get('rel_error', 0.01)):g}% variance "
            f"error with power {g(cfg.get('power', 0.99), 3)}. *Textbook fans* are the layer's (fan_in, fan_out) "
            "as the papers define them; *framework fans* are what the framework computes from the tensor's shape.",
            "",
        ]
    lines += ["Reproduce:", "", "```", f"invariants audit {framework} --json {framework}.json", "```", "",
              "Verdicts: " + "; ".join(f"`{v}`: {text(m)}" for v, m in AUDIT_VERDICT_MEANING.items()) + ".", ""]
    rows = []
    for i, r in enumerate(results, start=1):
        fans = r.get("fans") or {}
        tb, fwf = fans.get("textbook"), fans.get("framework")
        fw_fans = _fans(fwf) if fwf == tb or not fwf else f"**{_fans(fwf)}**"
        exp, obs = r.get("expected") or {}, r.get("observed") or {}
        ev, ov = exp.get("variance"), obs.get("variance")
        variances = f"{g(ev)}<br>{g(ov)}" + (f" (×{ov / ev:.4f})" if ev and ov is not None else "")
        verdict = r.get("verdict", "?")
        vcell = f"**{verdict}**" if verdict in ("deviates", "error") else verdict
        if verdict in ROW_CLASS:
            vcell = mark_row(ROW_CLASS[verdict], vcell)
        target = code(r.get("target", "?")) + (f"<br>on {code(r['layer'])}" if r.get("layer") else "")
        rows.append([str(i), vcell, target, f"{_fans(tb)}<br>{fw_fans}", text(exp.get("spec") or "-"), variances,
                     f"{int(obs.get('n', 0)):,}<br>{detects(r.get('min_detectable_rel_error'))}"])
    lines += ["## Catalogue", "",
              "Each row: the verdict; the initializer (or layer default) and the layer it was sampled on; the fans "
              "(fan_in, fan_out) as the textbook defines them for that layer, then as the framework computes them; "
              "the expected law; the expected variance, then the observed variance with its ratio to the expected; "
              "the number of pooled values n, then the smallest relative variance error the checks detect at that n with "
              "power 0.99 (larger errors are detected too; `exact` for laws checked exactly: constants, identity, "
              "dirac).", "",
              table(["#", "verdict", "initializer or layer default, layer", "fans: textbook, framework", "expected",
                     "Var: expected, observed", "n, detects"], rows, "rllllrr"),
              "",
              "Framework fans in **bold** differ from the textbook fans.", ""]
    lines += _determinism_lines(framework, results)
    lines += dtype_pass_section(results)
    findings = [(i, r) for i, r in enumerate(results, start=1) if r.get("verdict") not in ("conforms", "skipped")]
    if findings:
        lines += ["## Findings", ""]
        for i, r in findings:
            head = f"### {i}. {text(r.get('target', '?'))}" + (f" on {text(r['layer'])}" if r.get("layer") else "")
            lines += [head, "", f"**{r.get('verdict')}**: {text(r.get('message', ''))}", ""]
            failed = [c for c in r.get("checks", []) if not c.get("passed", True)]
            if failed:
                lines += ["Failed checks: " + "; ".join(
                    f"{code(c.get('name', '?'))} (p = {g(c.get('p_value'), 3)}, α = {g(c.get('alpha'), 3)})"
                    for c in failed) + ".", ""]
    return "\n".join(lines)


def low_precision_methods() -> list[str]:
    """The methods page's paragraph on audits at a requested dtype (:mod:`invariants.stats.precision`)."""
    return [
        "**Low precision.** `--dtype float16|bfloat16` asks the framework for the tensor in that dtype and "
        "checks it comes back in it (`dtype_returned`). A correct sampler cannot give a continuous law there: "
        "its uniform input is resolved to the format (JAX keeps 7 random bits for bfloat16: 128 values) and its "
        "output is rounded. The null is the law as such a sampler computes it: its CDF within "
        + text("Δ = 2^-p·(2 + 2·sup|y|·f(y))") + " of the law's (p mantissa bits; 0.0194 for a bfloat16 "
        "N(0, 1)). The KS distance is allowed Δ, the mean is a sign test at F(μ) ± Δ, the variance a clipped "
        "second moment with the band " + text("±2·Δ·T²") + " (bfloat16: about 40% for a normal law, enough "
        "for a factor-2 fan or gain error, not for 1%), and beyond the law's " + text("2^-p/8") + " quantiles "
        "the tails stay exact: that is where an inverse-CDF sampler's " + text("u = 1 → ∞") + " shows, clamped "
        "or not. Values beyond a bounded law's support and non-finite values keep their exact checks. Complex "
        "dtypes are refused (no complex law).",
        "",
    ]


def dtype_pass_section(results: list[dict[str, Any]]) -> list[str]:
    """The "Low precision" section of an audit page: the catalogue's dtype pass (targets ``... @dtype``,
    :func:`invariants.audit.precision.dtype_pass`), one line per verdict with the rows' numbers; empty when
    the audit data hold no such rows."""
    rows = [(i, r) for i, r in enumerate(results, start=1) if " @" in str(r.get("target", ""))]
    if not rows:
        return []
    dtypes = sorted({str(r["target"]).rsplit(" @", 1)[1] for _, r in rows})
    by_verdict: dict[str, list[str]] = {}
    for i, r in rows:
        by_verdict.setdefault(str(r.get("verdict", "?")), []).append(str(i))
    lines = ["## Low precision", "",
             f"Each initializer of the catalogue that can be asked for a dtype was audited once more in "
             f"{', '.join(dtypes)} (rows marked `@dtype`): the tensor must come back in that dtype "
             "(`dtype_returned`), and its law is judged at that precision (the law as a correct sampler computes "
             "it in the format: see [Methods](../methods.md)).", ""]
    lines += [f"- {text(v)}: {len(ids)} (rows {', '.join(ids)})" for v, ids in sorted(by_verdict.items())]
    return lines + [""]


def audit_index(entries: Iterable[tuple[str, dict[str, Any] | None, str]]) -> str:
    """Table of frameworks: ``entries`` are ``(framework, payload or None, install hint)``."""
    rows = []
    for fw, payload, hint in entries:
        results = (payload or {}).get("results") or []
        audited = [r for r in results if r.get("verdict") != "skipped"]
        if not audited:
            why = f"not audited: {code(hint)}" if results else \
                f"no stored audit: {code(f'invariants report --audit {fw}')}"
            rows.append([f"[{fw}]({fw}.md)", "-", "skipped", why, "-"])
            continue
        counts = {v: sum(1 for r in results if r.get("verdict") == v) for v in AUDIT_VERDICTS}
        seeds, failing = determinism_summary(results)
        checked = sum(ran for ran, _ in seeds.values())
        rows.append([f"[{fw}]({fw}.md)", text(payload.get("framework_version") or "?"), str(len(results)),
                     ", ".join(f"{counts[v]} {v}" for v in AUDIT_VERDICTS if counts[v]),
                     "not checked" if not checked else (f"**{len(failing)} tensors fail**" if failing
                                                        else f"{checked} checks pass")])
    lines = [front_matter(title="Initializer audits"), "", "# Initializer audits", "",
             "`invariants audit FRAMEWORK` samples every initializer and layer default of a framework many times, "
             "tests the pooled values against the expected law (variance, mean, support, extremes, shape, "
             "structure) with a stated false-alarm rate and power, checks that each tensor is a function of its "
             "seed alone (seed determinism), and classifies each tensor. The pages below "
             "render the stored results of the last audit of each framework (`data/audit/<framework>.json`); "
             "refresh them with `invariants report --audit FRAMEWORK`. See [Methods](../methods.md) for the tests.",
             "", table(["framework", "version", "tensors", "verdicts", "seed determinism"], rows, "llrll"), ""]
    return "\n".join(lines)
