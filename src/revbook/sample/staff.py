"""The sample's people and who owns which account: CSMs in teams with managers, AEs, CSM
departures and reassignments (the ``people`` and ``owners`` tables)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._util import NULL, _date, _days, _ids, _pick, _words
from .plants import plan_of, team_sizes
from .simulation import Book

_NAMES_FIRST = _words(
    "Alex Maria James Priya Chen Sofia Liam Aisha Noah Emma Lucas Olivia Mateo Hannah Ethan Yuki Omar Grace "
    "Daniel Chloe Ravi Elena Samuel Fatima Leo Nora",
    "José",
    "Zoë",
    "Björn",
)
_NAMES_LAST = _words(
    "Smith Garcia Patel Kim Nguyen Johnson Rossi Schmidt Dubois Silva Tanaka Brown Cohen Khan Larsen Murphy "
    "Novak Okafor Park Reyes Wilson Young",
    "O'Neil",
    "Müller",
    "Ngô",
)


def people_table(book: Book, rng: np.random.Generator) -> pa.Table:
    """The CSMs and AEs with their teams and managers (drawn from their own generator)."""
    return _staff_plan(book).people


@dataclass
class _Staff:
    people: pa.Table
    team_csms: list[np.ndarray]  # CSM numbers (0-based) per team: smb, mid_market, enterprise
    leave: np.ndarray  # leaving day per CSM, NULL if staying
    aes: np.ndarray
    ids: pa.Array
    #: the CSMs of the planted books (revbook.sample.plants): role -> CSM number; they stay
    planted: dict[str, int]


def _staff_plan(book: Book) -> _Staff:
    """CSMs per team (at least 4 in all, one per team), AEs and their managers; seeded apart."""
    cfg = book.config
    rng = np.random.default_rng([cfg.seed, 101])
    per_team = team_sizes(book)
    n_csm = int(per_team.sum())
    n_ae = max(2, math.ceil(book.n / cfg.accounts_per_ae))
    teams = ("SMB Pod", "Mid-Market", "Enterprise")
    managers = [
        f"{_NAMES_FIRST[(3 * t + 5) % len(_NAMES_FIRST)]} {_NAMES_LAST[(7 * t + 2) % len(_NAMES_LAST)]}"
        for t in range(4)
    ]
    team_of = np.repeat(np.arange(3), per_team)
    total_people = n_csm + n_ae
    combo = rng.permutation(len(_NAMES_FIRST) * len(_NAMES_LAST))[
        np.arange(total_people) % (len(_NAMES_FIRST) * len(_NAMES_LAST))
    ]
    first = _pick(_NAMES_FIRST, combo % len(_NAMES_FIRST))
    last = _pick(_NAMES_LAST, combo // len(_NAMES_FIRST))
    ids = _ids("P", np.arange(1, total_people + 1), max(4, len(str(total_people))))
    team_idx = np.r_[team_of, np.full(n_ae, 3)]
    people = pa.table(
        {
            "owner_id": ids,
            "name": pc.binary_join_element_wise(first, last, " "),
            "team": _pick((*teams, "Sales"), team_idx),
            "manager": _pick(managers, team_idx),
        }
    )
    # leavers: some CSMs leave on a date in the second half; each team keeps at least one stayer
    s0, s1 = _days(cfg.start) + 365, book.as_of - 30
    leave = np.where(rng.random(n_csm) < cfg.csm_departure_share, rng.integers(s0, max(s0 + 1, s1), n_csm), NULL)
    team_csms = [np.flatnonzero(team_of == t) for t in range(3)]
    for members in team_csms:
        if (leave[members] == NULL).sum() == 0:
            leave[members[0]] = NULL
    # the planted books' CSMs: the Enterprise team's first, the Mid-Market team's first and second
    seats = {"flattered": (2, 0), "strong": (1, 0), "weak": (1, 1)}
    planted = {role: int(team_csms[t][k]) for role, (t, k) in seats.items() if role in plan_of(book).books}
    leave[list(planted.values())] = NULL
    return _Staff(people, team_csms, leave, np.arange(n_csm, total_people), ids, planted)


def _merge(a: np.ndarray, d: np.ndarray, c: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, ...]:
    """Spells sorted by account and start, consecutive spells of the same CSM merged."""
    o = np.lexsort((d, a))
    a, d, c, end = a[o], d[o], c[o], end[o]
    cont = np.r_[False, (a[1:] == a[:-1]) & (c[1:] == c[:-1])]
    first_idx = np.flatnonzero(~cont)
    last_idx = np.r_[first_idx[1:] - 1, len(a) - 1]
    return a[first_idx], d[first_idx], c[first_idx], end[last_idx]


def _hand_over(
    book: Book, st: _Staff, rng: np.random.Generator, a: np.ndarray, d: np.ndarray, c: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, ...]:
    """On the window start each planted CSM's accounts go to a peer of the team (not planted), and
    the planted book's accounts to the planted CSM, who keeps them (their later moves are dropped)."""
    plan = plan_of(book)
    w = plan.window_start
    owner_of = np.full(book.n, -1, np.int64)
    for role, csm in st.planted.items():
        owner_of[plan.books[role]] = csm
    planted = np.array(sorted(st.planted.values()), np.int64)
    mine = owner_of[a] >= 0
    covers = (d < w) & ((end == NULL) | (end > w))
    # spells of the planted accounts: kept up to w, a new spell with the planted CSM from w
    head = mine & covers
    keep = ~mine | ((end != NULL) & (end <= w)) | head
    new_a = np.unique(a[mine])
    parts_a, parts_d, parts_c, parts_e = (
        [new_a],
        [np.full(len(new_a), w)],
        [owner_of[new_a]],
        [np.full(len(new_a), NULL)],
    )
    end = np.where(head, w, end)
    # spells of other accounts the planted CSMs hold at w: from w with a peer
    theirs = ~mine & (d <= w) & ((end == NULL) | (end > w)) & np.isin(c, planted)
    keep &= ~(theirs & (d == w))  # a spell starting on w moves whole
    team_of = np.empty(len(st.leave), np.int64)
    for t, members in enumerate(st.team_csms):
        team_of[members] = t
    idx = np.flatnonzero(theirs)
    peer = np.empty(len(idx), np.int64)
    for t, members in enumerate(st.team_csms):
        pool = members[(st.leave[members] == NULL) & ~np.isin(members, planted)]
        sel = team_of[c[idx]] == t
        peer[sel] = pool[rng.integers(0, len(pool), sel.sum())] if len(pool) else c[idx][sel]
    parts_a.append(a[idx])
    parts_d.append(np.full(len(idx), w))
    parts_c.append(peer)
    parts_e.append(end[idx])
    end = np.where(theirs, w, end)
    a, d, c, end = a[keep], d[keep], c[keep], end[keep]
    return (
        np.r_[a, *parts_a],
        np.r_[d, *parts_d],
        np.r_[c, *parts_c],
        np.r_[end, *parts_e],
    )


def owners_table(book: Book, rng: np.random.Generator) -> pa.Table:
    """Who owns each account when: CSM spells from signup, upgrades, reassignments and departures; AEs."""
    cfg = book.config
    st = _staff_plan(book)
    n, as_of = book.n, book.as_of

    def pick_csm(team: np.ndarray, day: np.ndarray, stayers_only: bool = False) -> np.ndarray:
        out = np.empty(len(team), np.int64)
        for t in range(3):
            m = team == t
            members = st.team_csms[t]
            if stayers_only:
                members = members[st.leave[members] == NULL]
            c = members[rng.integers(0, len(members), m.sum())]
            # never assign someone who has already left: give it to a stayer instead
            gone = (st.leave[c] != NULL) & (st.leave[c] <= day[m])
            stay = members[st.leave[members] == NULL] if not stayers_only else members
            c[gone] = stay[rng.integers(0, len(stay), gone.sum())]
            out[m] = c
        return out

    # change points (account, day, csm): at signup, at an upgrade, at a random reassignment
    plan = plan_of(book)
    covered = plan.covered
    i0 = np.flatnonzero(covered)
    d0 = book.created[i0] + rng.integers(0, 15, len(i0))
    pts_a, pts_d, pts_c = [i0], [d0], [pick_csm(book.segment[i0], d0)]
    up = book.upgrades
    if len(up["acct"]):
        pts_a.append(up["acct"])
        pts_d.append(up["day"])
        pts_c.append(pick_csm(np.minimum(up["segment"], 2), up["day"]))
    upgraded = np.zeros(n, bool)
    upgraded[up["acct"]] = True
    mv = i0[(~upgraded[i0]) & (rng.random(len(i0)) < cfg.reassignment_share)]
    d0m = book.created[mv] + 60
    dm = d0m + np.floor(rng.random(len(mv)) * np.maximum(as_of - d0m, 0)).astype(np.int64)
    mv, dm = mv[dm < as_of], dm[dm < as_of]
    pts_a.append(mv)
    pts_d.append(dm)
    pts_c.append(pick_csm(book.segment[mv], dm))
    a, d, c = np.concatenate(pts_a), np.concatenate(pts_d), np.concatenate(pts_c)
    d = np.minimum(d, as_of)
    o = np.lexsort((d, a))
    a, d, c = a[o], d[o], c[o]
    # one spell per change point; drop a change to the same CSM or on the same day
    same_next = np.r_[a[1:] == a[:-1], False]
    end = np.where(same_next, np.r_[d[1:], 0], NULL)
    keep = (end == NULL) | (end > d)
    a, d, c, end = a[keep], d[keep], c[keep], end[keep]
    # a leaver's accounts go to a stayer of the same team on the leaving day
    lv = st.leave[c]
    split = (lv != NULL) & (lv > d) & ((end == NULL) | (lv < end))
    team_of = np.empty(len(st.leave), np.int64)
    for t, members in enumerate(st.team_csms):
        team_of[members] = t
    s = np.flatnonzero(split)
    heir = pick_csm(team_of[c[s]], lv[s], stayers_only=True)
    a2, d2, c2, e2 = a[s], lv[s], heir, end[s]
    end = end.copy()
    end[s] = lv[s]
    a, d, c, end = np.r_[a, a2], np.r_[d, d2], np.r_[c, c2], np.r_[end, e2]
    a, d, c, end = _merge(a, d, c, end)
    # the planted books change hands at the window start (revbook.sample.plants)
    a, d, c, end = _merge(*_hand_over(book, st, rng, a, d, c, end))
    # AEs: the sale, on every mid_market / enterprise account and some smb ones; they stay on it
    ae_acc = np.flatnonzero((book.segment > 0) | (rng.random(n) < 0.4))
    ae = st.aes[rng.integers(0, len(st.aes), len(ae_acc))]
    acct = np.r_[a, ae_acc]
    owner = np.r_[c, ae]
    return pa.table(
        {
            "account_id": book.ids_of(acct),
            "owner_id": st.ids.take(pa.array(owner)),
            "role": _pick(("csm", "ae"), np.r_[np.zeros(len(a), np.int64), np.ones(len(ae_acc), np.int64)]),
            "start_date": _date(np.r_[d, np.minimum(book.created[ae_acc], as_of)]),
            "end_date": _date(np.r_[end, np.full(len(ae_acc), NULL)]),
        }
    )
