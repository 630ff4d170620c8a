"""The second experiment of docs/churn-reasons.md "Making the rules generalise": candidates from a
wide lexicon per family (cue words written from the cs-notes README's label definitions, not from
its notes), each candidate sentence described by scope-aware terms (its words and word pairs, tied
to the family too, and every scope check of :mod:`revbook.insights.signals.scope` it fails at the
cue), one logistic regression over all families; grouped 5-fold cross-validation by account inside
the development part, at the note level. ``--rules`` also makes the rules' own patterns candidates
and their match a term (optimistic on this part: the rules were written on it). The held-out part
is not read.

``python tests/insights/signal_lexicon_experiment.py [--rules]`` (about a minute per variant).
"""

from __future__ import annotations

import itertools
import re
import sys

import numpy as np
from signal_corpus import parts

from revbook.insights.signals import scope
from revbook.insights.signals.rules import SENTENCE_SPLIT, signal_rules
from revbook.insights.signals.scan import SIGNATURE

# broad cue words per family, written from the corpus README's label definitions (not from notes)
LEX = {
    "acquisition": (
        r"acqui\w*|aqui\w*|merg\w*|bought|buy-?out|buying|sold|sale of|private equity|m&a|takeover|take-?over|"
        r"parent|owner\w*|deal|divest\w*|loi|letter of intent|due diligence|change of control|consolidat\w*"
    ),
    "champion_left": (
        r"champion|sponsor|admin\w*|contact|left|leav\w*|resign\w*|quit|depart\w*|moving on|moved on|"
        r"successor|replac\w*|new (?:vp|head|director|cto|cfo|ceo|manager|lead)|notice|last day|poached|"
        r"stepp\w* down|no longer|bounc\w*|retir\w*|let go|role"
    ),
    "budget_cut": (
        r"budg\w*|budj\w*|spend\w*|cost\w*|cut\w*|freez\w*|frozen|sav(?:e|ing)\w*|reduc\w*|trim\w*|slash\w*|"
        r"justify|line item|procurement|finance|cfo|leaner|tighten\w*"
    ),
    "layoffs_reorg": (
        r"laid off|lay\w* off|layoffs?|redundan\w*|reorg\w*|re-?organi[sz]\w*|restructur\w*|downsiz\w*|"
        r"rif|headcount|let go|job cuts|cuts?"
    ),
    "competitor": (
        r"competit\w*|rival|alternative\w*|eval\w*|rfp|rfi|poc|pilot|proof of concept|quote|shortlist\w*|"
        r"switch\w*|migrat\w*|replac\w*|in-?house|build (?:their|it|our)|vendor\w*|demo|compar\w*|cheaper|"
        r"discount|bake-?off|trial"
    ),
    "underuse": (
        r"us(?:e|ing|age)|adopt\w*|log\w*|seats?|licen[cs]\w*|shelfware|unused|idle|inactive|active|dormant|"
        r"engag\w*|wau|dau|module|feature\w*|functionality|excel|barely|rarely|nobody|stopped"
    ),
    "cancel_intent": (
        r"cancel\w*|not renew\w*|won'?t renew|non-?renew\w*|churn\w*|terminat\w*|downgrad\w*|fewer seats|"
        r"reduce (?:seats|licen)|drop\w*|notice|leav\w*|moving away|exit|end (?:the|our) contract|export|"
        r"offboard\w*|lower tier|scale back|wind down"
    ),
    "exec_escalation": (
        r"ceo|cfo|coo|cto|cio|cro|vp|chief|exec\w*|director|head of|svp|evp|president|founder|board|leadership|"
        r"escalat\w*|complain\w*|furious|angry|frustrat\w*|unhappy|over (?:my|your|the csm'?s?) head|"
        r"directly"
    ),
    "payment_issue": (
        r"pay\w*|invoice\w*|overdue|late|unpaid|outstanding|arrears|collections?|dunning|dispute\w*|withh[oe]ld\w*|"
        r"hold|po\b|purchase order|ap\b|ar\b|accounts payable|billing|credit card|declin\w*|remit\w*|"
        r"past due|owe\w*"
    ),
    "new_team": (
        r"team|department|dept|division|region|subsidiar\w*|business unit|bu\b|office|branch|group|org\w*|"
        r"roll\w* out|rollout|expand\w*|another|other|wants? (?:to use|access)|onboard\w*|acquired company|"
        r"sister"
    ),
    "hiring_growth": (
        r"hir\w*|headcount|recruit\w*|grow\w*|growth|expan\w*|series [a-f]|rais\w*|fund\w*|round|"
        r"new (?:office|site|location|warehouse|plant)|"
        r"open\w*|doubl\w*|tripl\w*|ipo|investors?"
    ),
    "expansion_intent": (
        r"seats?|licen[cs]\w*|capacity|limit\w*|cap\b|quota|more users|additional|add(?:ing)?|upgrad\w*|"
        r"tier|plan|quote|expand\w*|increase\w*|true-?up|overage|maxed"
    ),
    "new_use_case": (
        r"module|add-?on|use case|interest\w*|demo|product|feature\w*|service\w*|api|integration|forecast\w*|"
        r"analytics|cross-?sell|upsell|pilot|explor\w*|curious|wants?|would like|keen"
    ),
    "renewal_commit": (
        r"renew\w*|commit\w*|sign\w*|multi-?year|extend\w*|extension|contract|paperwork|verbal\w*|confirm\w*|"
        r"early|another year|(?:2|3|two|three)[- ]year|going anywhere|staying|stay"
    ),
}
RULES = signal_rules()
BY_NAME = {r.name: r for r in RULES}
FAMS = [r.name for r in RULES]
LEXRX = {f: re.compile(r"\b(?:" + v + r")", re.I) for f, v in LEX.items()}
WORD = re.compile(r"[a-z0-9][a-z0-9'&]*")
CHECKS = list(scope.SCOPE_CHECKS)


def sentences(text):
    text = re.sub(SIGNATURE, "", text.replace("\u2019", "'"))
    return [s.strip() for s in re.split(SENTENCE_SPLIT, text) if s and s.strip()]


def cand_features(f, sent, use_rules):
    m = LEXRX[f].search(sent)
    rule_m = re.search(BY_NAME[f].regex, sent) if use_rules else None
    if not m and not rule_m:
        return None
    mm = rule_m or m
    words = WORD.findall(sent.lower())
    t = {"fam:" + f}
    t.update("w:" + w for w in words)
    t.update(f"{f}|w:{w}" for w in words)
    t.update("b:" + a + " " + b for a, b in itertools.pairwise(words))
    t.update(f"{f}|b:{a} {b}" for a, b in itertools.pairwise(words))
    for name in CHECKS:
        applies = scope.SCOPE_CHECKS[name]
        if (applies is None or f in applies) and scope._check(name, f, True, sent, mm.start(), mm.end()):
            t.add("scope:" + name)
            t.add(f"{f}|scope:{name}")
    if use_rules and rule_m:
        t.add(f"{f}|rule")
    return t


def build(table, use_rules):
    rows = []  # (note index, family, terms)
    for i, text in enumerate(table.column("text").to_pylist()):
        for s in sentences(text):
            for f in FAMS:
                t = cand_features(f, s, use_rules)
                if t is not None:
                    rows.append((i, f, t))
    return rows


def fit(rows, truth, C):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    dv = DictVectorizer()
    X = dv.fit_transform([{k: 1 for k in t} for _, _, t in rows])
    y = np.array([f in truth[i] for i, f, _ in rows])
    m = LogisticRegression(C=C, max_iter=3000, class_weight="balanced").fit(X, y)
    return dv, m


def predict(dv, m, rows, n, thr):
    X = dv.transform([{k: 1 for k in t} for _, _, t in rows])
    p = m.predict_proba(X)[:, 1]
    out = [set() for _ in range(n)]
    for (i, f, _), q in zip(rows, p, strict=True):
        if q >= thr:
            out[i].add(f)
    return out, p


def score(pred, truth, hard):
    tp = fire = pos = 0
    per = {}
    for f in FAMS:
        p = np.array([f in x for x in pred])
        t = np.array([f in x for x in truth])
        per[f] = 2 * (p & t).sum() / max(p.sum() + t.sum(), 1)
        tp += (p & t).sum()
        fire += p.sum()
        pos += t.sum()
    hnf = sum(h and bool(p - t) for h, p, t in zip(hard, pred, truth, strict=True))
    return 2 * tp / (fire + pos), tp / max(fire, 1), tp / pos, hnf / sum(hard), per


def main(use_rules: bool) -> None:
    from sklearn.model_selection import GroupKFold

    dev, _ = parts()
    truth = [set(x) for x in dev.column("labels").to_pylist()]
    hard = dev.column("hard_negative").to_pylist()
    groups = dev.column("account_id").to_pylist()
    rows = build(dev, use_rules)
    print(f"candidates {len(rows)}")
    for c in (0.3, 1.0, 3.0):
        probs = np.zeros(len(rows))
        for tr, te in GroupKFold(n_splits=5).split(np.arange(len(truth)), groups=groups):
            trs, tes = set(tr), set(te)
            idx = [k for k, r in enumerate(rows) if r[0] in tes]
            dv, m = fit([r for r in rows if r[0] in trs], truth, c)
            probs[idx] = predict(dv, m, [rows[k] for k in idx], len(truth), 2)[1]
        for thr in (0.5, 0.6, 0.7, 0.8):
            pred: list[set[str]] = [set() for _ in truth]
            for (i, f, _), q in zip(rows, probs, strict=True):
                if q >= thr:
                    pred[i].add(f)
            f1, pr, rc, hn, _ = score(pred, truth, hard)
            print(f"C={c:g} thr={thr:g} F1={f1:.3f} P={pr:.3f} R={rc:.3f} hard negatives firing={hn:.3f}")


if __name__ == "__main__":
    main("--rules" in sys.argv)
