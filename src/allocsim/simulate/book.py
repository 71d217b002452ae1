"""The project book: every proposal of every year as columns of numpy arrays.

Projects are data, not agents: institutions (Mesa agents) act on slices of the book, and the
weekly execution of thousands of projects is a handful of vectorised operations. Money is int64
baht so that conservation can be checked to the baht.
"""

from __future__ import annotations

import numpy as np

# project states
PROPOSED, REJECTED_DUPLICATE, REJECTED_RULE, UNFUNDED, PROCUREMENT, EXECUTING, DONE, CANCELLED, LAPSED = range(9)
ACTIVE = (PROCUREMENT, EXECUTING)
#: why a proposal was not funded (book column ``reason``; 0: funded or not decided yet).
#: ``no_money``: its holder's money left at its decision was below its cost; ``no_cofunding``: it
#: fitted the money but local governments' co-funding left was short; ``not_selected``: the
#: optimal rule's MILP did not select it
NOT_FUNDED_REASONS = ("", "duplicate_rejected", "rule_rejected", "no_money", "no_cofunding",
                      "not_selected")
R_DUPLICATE, R_RULE, R_NO_MONEY, R_NO_COFUNDING, R_NOT_SELECTED = range(1, 6)
CHANNELS = ("province", "ministry", "local_grant", "private", "cluster")
#: the money source each provincial channel draws on (cluster projects: the cluster pot)
SOURCES = ("province_budget", "ministry_budget", "local_grant", "private")

COLUMNS: dict[str, type] = {
    "year": np.int16, "province": np.int16, "cluster": np.int16, "strategy": np.int8,
    "channel": np.int8, "ministry": np.int16, "cost": np.int64, "potential": np.float64,
    "construction": bool, "problem": bool, "aligned": bool, "group": np.int32, "copy": bool,
    "years": np.int8, "cofund_share": np.float64, "state": np.int8, "alloc": np.int64,
    "disb": np.int64, "disb_year": np.int64, "plan_day": np.float64, "start_day": np.float64,
    "weeks": np.float64, "rate": np.int64, "hold_until": np.float64, "first_disb": np.float64,
    "pending": np.int8, "cancel": bool, "effective": np.float64, "request_day": np.float64,
    # one world: the optimiser's decision and the reform's commitments
    "selected": bool, "committed": bool, "funded_day": np.float64, "hold_days": np.float64,
    # per-project random numbers (common random numbers across scenarios) and event clocks
    "u_screen": np.float64, "e_proc": np.float64, "u_weeks": np.float64, "e_change": np.float64,
    "e_dup": np.float64, "u_request": np.float64, "n_change": np.int64, "u_plan": np.float64, "clock_change": np.float64, "clock_dup": np.float64,
    # delays: the day a project finished paying, the day its ministry notified (from the year's
    # start) and the requests decided for it (``hold_days`` sums their waits)
    "done_day": np.float64, "notify_day": np.float64, "n_decided": np.int64,
    # escalation (m1): the project's uniform deciding whether an escalated problem is solved, and
    # the request day of the request last escalated (a request is escalated once)
    "u_escalate": np.float64, "esc_request": np.float64,
    # use it or lose it: baht paid this fiscal year above the normal weekly rate (year-end rush)
    "rush_year": np.int64, "rushed": bool,
    # the day a contracted project's carried-over money lapses (กันเงินไว้เบิกเหลื่อมปี; inf: none)
    "carry_until": np.float64,
    # why a proposal was not funded (``NOT_FUNDED_REASONS``), the holder's money left when it was
    # decided (baht; NaN: not decided by Province.fund) and the decision's order in the run
    "reason": np.int8, "money_left": np.float64, "decided_seq": np.int64,
}


class Book:
    def __init__(self) -> None:
        self.cols = {k: np.zeros(0, dtype=t) for k, t in COLUMNS.items()}

    def __len__(self) -> int:
        return len(self.cols["state"])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]

    def __setitem__(self, key: str, value: np.ndarray) -> None:
        self.cols[key][...] = value

    def append(self, new: dict[str, np.ndarray]) -> np.ndarray:
        """Add projects; missing columns take their defaults. Returns the new rows' indices."""
        n = len(next(iter(new.values())))
        start = len(self)
        defaults = {"group": -1, "ministry": -1, "cluster": -1, "hold_until": np.nan,
                    "first_disb": np.nan, "start_day": np.nan, "plan_day": np.nan, "years": 1,
                    "funded_day": np.nan, "done_day": np.nan, "notify_day": np.nan, "e_change": np.inf, "e_dup": np.inf, "u_screen": 1.0,
                    "u_escalate": 1.0, "esc_request": np.nan, "carry_until": np.inf,
                    "money_left": np.nan, "decided_seq": -1}
        for k, t in COLUMNS.items():
            col = np.asarray(new[k], dtype=t) if k in new else np.full(n, defaults.get(k, 0), dtype=t)
            self.cols[k] = np.concatenate([self.cols[k], col])
        return np.arange(start, start + n)

    def remaining(self) -> np.ndarray:
        return self.cols["alloc"] - self.cols["disb"]
