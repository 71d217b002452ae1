"""Seeded synthetic catalogue of candidate projects, in the projects/resources contract format.

The source documents give structure and problems but no project-level numbers, so every parameter
below is **illustrative**: a scenario parameter chosen to make the mechanisms visible, not a
measured Thai figure. Change them in a scenario's ``[catalogue]`` table, or supply a real
``projects.csv`` instead. Money is in million THB.

What the generator encodes (DOMAIN.md §3, §6):
- ideas arise per province (province budget, ministries' function budget, local-government grants,
  private co-investment) and per cluster (joint projects with partner provinces);
- some ideas are proposed through several channels at once: the copies share a ``duplicate_group``
  (`003` §5.2.8);
- line ministries lean towards construction (`003` §5.3.6) and comply only partly with the
  provincial plan (`003` §5.2.12), which the ``aligned`` flag records;
- some projects are follow-ons (value chain) that need an earlier project (``requires``);
- local-grant and cluster projects ask for local co-funding (``min_local_share``, matching fund);
- multi-year projects spread their cost over fiscal years (``cost:y<FY>`` columns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from allocsim.data.geography import Geography
from allocsim.data.projects import COST_PREFIX, LOCAL_PREFIX, ProjectTable
from allocsim.data.strategies import strategy_ids

#: The funding channels (DOMAIN.md §3) and the resource each one draws on.
CHANNEL_SOURCE = {
    "province": "province_budget",
    "ministry": "ministry_budget",
    "local_grant": "local_grant",
    "private": "private",
    "cluster": "cluster_budget",
}
#: Line ministries that propose function-budget projects in provinces (names only, no figures).
MINISTRIES = (
    "Interior", "Agriculture and Cooperatives", "Transport", "Public Health", "Education",
    "Tourism and Sports", "Natural Resources and Environment", "Industry", "Commerce", "Labour",
)


def canonical_channels(weights: dict[str, float]) -> list[str]:
    """Channels in a fixed order (DOMAIN.md §3 order, then any others sorted): draws must not
    depend on how a scenario file or JSON happened to order the keys."""
    known = [c for c in CHANNEL_SOURCE if c in weights]
    return known + sorted(set(weights) - set(known))


class CatalogueParams(BaseModel):
    """Generator parameters. **All defaults are illustrative**, not measured figures."""

    model_config = ConfigDict(extra="forbid")

    projects_per_province: int = Field(12, ge=0, le=1000, description="illustrative")
    projects_per_cluster: int = Field(3, ge=0, le=1000, description="illustrative")
    channel_weights: dict[str, float] = Field(
        default_factory=lambda: {"province": 0.35, "ministry": 0.4, "local_grant": 0.2, "private": 0.05},
        description="illustrative share of provincial ideas by proposing channel")
    duplicate_rate: float = Field(0.15, ge=0, le=1, description="illustrative share of ideas also "
                                  "proposed through another channel")
    max_duplicate_copies: int = Field(2, ge=1, le=4)
    duplicate_cost_spread: float = Field(0.1, ge=0, le=0.9, description="illustrative: a duplicate "
                                         "copy is costed separately, at the idea's cost × U(1 − s, "
                                         "1 + s) — agencies estimate the same works differently")
    cost_median_mthb: float = Field(25.0, gt=0, le=1e6, description="illustrative median cost")
    cost_sigma: float = Field(0.8, ge=0, le=3, description="illustrative lognormal spread")
    benefit_cost_median: float = Field(1.4, gt=0, le=100, description="illustrative")
    benefit_cost_sigma: float = Field(0.5, ge=0, le=3)
    construction_share_ministry: float = Field(0.6, ge=0, le=1, description="illustrative bias")
    construction_share_other: float = Field(0.3, ge=0, le=1)
    construction_benefit_factor: float = Field(0.8, gt=0, le=5, description="illustrative: "
                                               "construction returns less benefit per baht")
    ministry_plan_compliance: float = Field(0.6, ge=0, le=1, description="illustrative share of "
                                            "ministry projects aligned with the provincial plan")
    follow_on_rate: float = Field(0.1, ge=0, le=1)
    local_share_range: tuple[float, float] = Field((0.1, 0.3), description="illustrative matching "
                                                   "share for local-grant and cluster projects")
    multi_year_share: float = Field(0.3, ge=0, le=1, description="illustrative")
    max_years: int = Field(3, ge=1, le=10)
    cluster_partners_range: tuple[int, int] = Field((2, 4))
    budget_tightness: float = Field(0.5, gt=0, le=10, description="illustrative: each envelope "
                                    "= tightness × money requested from it")
    local_capacity_ratio: float = Field(0.7, ge=0, le=10, description="illustrative: local "
                                        "co-funding capacity = ratio × co-funding requested")
    oversubscription: float = Field(0.0, ge=0, le=20, description="illustrative: when above 0 (and "
                                    "the simulation passes each holder's money), every holder "
                                    "proposes first-year requests worth this many times its money; "
                                    "0: a fixed count per province")

    @field_validator("channel_weights")
    @classmethod
    def _channels(cls, v: dict[str, float]) -> dict[str, float]:
        allowed = [c for c in CHANNEL_SOURCE if c != "cluster"]
        bad = sorted(set(v) - set(allowed))
        if bad:
            raise ValueError(f"unknown channel(s) {', '.join(bad)}; valid: {', '.join(allowed)}")
        if any(not (0 <= x <= 1e6) for x in v.values()) or sum(v.values()) <= 0:
            raise ValueError("weights must be >= 0 with a positive sum")
        return v

    @model_validator(mode="after")
    def _ranges(self) -> CatalogueParams:
        lo, hi = self.local_share_range
        if not 0 <= lo <= hi <= 1:
            raise ValueError("local_share_range must be [low, high] with 0 <= low <= high <= 1")
        plo, phi = self.cluster_partners_range
        if not 1 <= plo <= phi <= 76:
            raise ValueError("cluster_partners_range must be [low, high] with 1 <= low <= high <= 76")
        return self


def generate_catalogue(geo: Geography, params: CatalogueParams, rng: np.random.Generator,
                       first_year: int = 2027, *, strategy_p: np.ndarray | None = None,
                       benefit_factor: np.ndarray | None = None,
                       problem_p: np.ndarray | None = None,
                       holder_money: dict[tuple[str, str], float] | None = None,
                       ministry_weights: np.ndarray | None = None,
                       ministry_compliance: np.ndarray | None = None,
                       duplicate_p: np.ndarray | None = None) -> ProjectTable:
    """Candidate projects and resource capacities; identical for the same rng state and inputs.

    The simulation's proposing agents call this generator every fiscal year conditioned on their
    citizens' needs: ``strategy_p`` (provinces × strategies, rows in ``geo.province_codes`` order,
    each summing to 1) is the chance a provincial idea serves each strategy, and
    ``benefit_factor`` (same shape) scales an idea's benefit by how much its need matters now.
    ``problem_p`` (per province, same order) is the chance an idea is *problem-based* (it serves a
    strategy drawn from ``strategy_p``); otherwise it is a *want* (`003` §5.5.2: proposals that
    follow wants rather than problems) and serves any strategy with equal chance. The
    ``problem`` column records which; without ``problem_p`` every idea is problem-based.
    Without them the draws are exactly the unconditioned catalogue's.

    ``holder_money`` ((province, channel) or (cluster, "cluster") → M THB this year) with
    ``params.oversubscription`` sizes the proposals against the money: each holder keeps proposing
    ideas of its channel until their first-year central cost reaches oversubscription × its money
    (real provinces ask for more than they get). Without it each province proposes
    ``projects_per_province`` ideas on a channel drawn by ``channel_weights``, each cluster
    ``projects_per_cluster``: a fixed count that need not match the money (the cause of money no
    holder could spend on an eligible proposal).

    ``ministry_weights`` (one per ``MINISTRIES``) make the proposing ministry follow the
    ministries' budget weights rather than a uniform draw; ``ministry_compliance`` (same order) is
    each ministry's chance that its proposal is aligned with the provincial plan (default:
    ``params.ministry_plan_compliance`` for all). Both reuse the same uniforms, in the same order.
    ``duplicate_p`` (per province, same order) replaces ``params.duplicate_rate`` as the chance an
    idea of that province is also sent through other channels: the simulation's agencies learn
    their multi-channel propensity (``Province.adapt_submission``). The same uniform decides, so
    a province's propensity changes only its own ideas' copies (common random numbers)."""
    strategies = strategy_ids()
    cum_m = None
    if ministry_weights is not None:
        mw = np.asarray(ministry_weights, float)
        if mw.shape != (len(MINISTRIES),) or (mw < 0).any() or mw.sum() <= 0:
            raise ValueError(f"ministry_weights must be {len(MINISTRIES)} numbers >= 0 with a positive sum")
        cum_m = np.cumsum(mw) / mw.sum()
    comp = (np.full(len(MINISTRIES), params.ministry_plan_compliance) if ministry_compliance is None
            else np.asarray(ministry_compliance, float))
    prow = {iso: k for k, iso in enumerate(geo.province_codes)}
    for name, arr in (("strategy_p", strategy_p), ("benefit_factor", benefit_factor)):
        if arr is not None and np.shape(arr) != (len(prow), len(strategies)):
            raise ValueError(f"{name} must be (provinces, strategies) = {(len(prow), len(strategies))}")
    for name, arr in (("problem_p", problem_p), ("duplicate_p", duplicate_p)):
        if arr is not None and np.shape(arr) != (len(prow),):
            raise ValueError(f"{name} must be (provinces,) = ({len(prow)},)")
    cum_p = None if strategy_p is None else np.cumsum(strategy_p, axis=1) / np.sum(strategy_p, axis=1, keepdims=True)
    rows: list[dict] = []
    channels = canonical_channels(params.channel_weights)  # never depend on dict order
    w = np.array([params.channel_weights[c] for c in channels], dtype=float)
    w = w / w.sum()

    sized = holder_money is not None and bool(params.oversubscription)
    # sized: one random stream per holder (and ids/groups keyed by holder), so a holder proposing
    # one idea more or less leaves every other holder's ideas and ids unchanged (common random
    # numbers across scenarios whose money differs); unsized: one stream, the historical draws
    root = int(rng.integers(2**62)) if sized else 0
    g = rng

    def base(province: str, cluster: str, channel: str) -> dict:
        construction_p = (params.construction_share_ministry if channel == "ministry"
                          else params.construction_share_other)
        construction = bool(g.random() < construction_p)
        cost = float(params.cost_median_mthb * np.exp(params.cost_sigma * g.standard_normal()))
        bcr = float(params.benefit_cost_median * np.exp(params.benefit_cost_sigma * g.standard_normal()))
        if construction:
            bcr *= params.construction_benefit_factor
        years = int(g.integers(2, params.max_years + 1)) if (
            params.max_years > 1 and g.random() < params.multi_year_share) else 1
        u_aligned = g.random() if channel == "ministry" else 1.0  # decided once the ministry is known
        lo, hi = params.local_share_range
        share = float(g.uniform(lo, hi)) if channel in ("local_grant", "cluster") else 0.0
        if channel == "ministry":
            mk = (int(g.integers(len(MINISTRIES))) if cum_m is None
                  else min(int(np.searchsorted(cum_m, g.random(), side="right")), len(MINISTRIES) - 1))
            agency = MINISTRIES[mk]
            aligned = bool(u_aligned < comp[mk])  # the ministry's own plan compliance
        else:
            aligned = True
            agency = {"province": "governor", "local_grant": "local_government",
                      "private": "private_sector", "cluster": "cluster_office"}[channel]
        # a want (not a problem) picks any strategy: one more uniform per idea, only with problem_p
        problem = True if problem_p is None or province not in prow else \
            bool(g.random() < problem_p[prow[province]])
        if strategy_p is not None and province in prow and problem:  # inverse CDF: one uniform
            k = int(np.searchsorted(cum_p[prow[province]], g.random(), side="right"))
            strategy = str(strategies[min(k, len(strategies) - 1)])
        else:
            strategy = str(g.choice(strategies))
        if benefit_factor is not None and province in prow:
            bcr *= float(benefit_factor[prow[province], strategies.index(strategy)])
        return {"province": province, "cluster": cluster, "strategy": strategy,
                "agency": agency, "channel": channel, "construction": construction,
                "aligned": aligned, "total_cost": round(cost, 3), "benefit": round(cost * bcr, 3),
                "years": years, "min_local_share": round(share, 3), "problem": problem}

    group = 0
    cluster_of = dict(zip(geo.provinces["iso_code"], geo.provinces["cluster_id"], strict=True))
    cap = 5000  # ideas per holder at most: a guard against a degenerate cost distribution

    def first_request(idea: dict) -> float:
        """An idea's first-year request on its own channel's money (central share / years)."""
        return idea["total_cost"] * (1 - idea["min_local_share"]) / idea["years"]

    def idea_copies(iso: str, cluster: str, channel: str) -> list[dict]:
        nonlocal group
        idea = base(iso, cluster, channel)
        idea["partners"] = ""
        copies = [idea]
        rate = params.duplicate_rate if duplicate_p is None or iso not in prow else duplicate_p[prow[iso]]
        if g.random() < rate:
            group += 1
            idea["duplicate_group"] = f"D{tag}{group:05d}"
            others = [c for c in channels if c != channel]
            n = int(g.integers(1, params.max_duplicate_copies + 1))
            for ch in g.choice(others, size=min(n, len(others)), replace=False):
                dup = dict(idea, channel=str(ch))
                other = base(iso, cluster, str(ch))
                dup["agency"] = other["agency"]
                if ch == "ministry":  # a ministry's copy is aligned as that ministry complies
                    dup["aligned"] = other["aligned"]
                spread = params.duplicate_cost_spread  # the same idea, costed separately
                jitter = float(g.uniform(1 - spread, 1 + spread))
                dup["total_cost"] = round(idea["total_cost"] * jitter, 3)
                dup["min_local_share"] = idea["min_local_share"] if ch in ("local_grant", "cluster") else 0.0
                copies.append(dup)
        return copies

    tag = ""
    for pi, iso in enumerate(geo.province_codes):
        cluster = cluster_of[iso]
        if sized:
            want = {c: params.oversubscription * float(holder_money.get((iso, c), 0.0)) for c in channels}
            asked = dict.fromkeys(channels, 0.0)
            for ci, channel in enumerate(channels):
                g, tag, group = np.random.default_rng([root, pi, ci]), f"{iso}-{channel}-", 0
                k = 0
                while asked[channel] < want[channel] and k < cap:
                    copies = idea_copies(iso, cluster, channel)
                    for j, c in enumerate(copies):  # a copy through another channel asks that channel's money
                        asked[c["channel"]] += first_request(c)
                        c["_id"] = f"P{iso}-{channel}-{k + 1:04d}" + (f"-{j}" if j else "")
                    rows.extend(copies)
                    k += 1
            continue
        for _ in range(params.projects_per_province):
            channel = str(g.choice(channels, p=w))
            rows.extend(idea_copies(iso, cluster, channel))

    def cluster_idea(cid: str, members: list[str]) -> dict:
        lo, hi = params.cluster_partners_range
        k = int(min(len(members), g.integers(lo, hi + 1)))
        partners = sorted(g.choice(members, size=k, replace=False).tolist())
        idea = base(partners[0], cid, "cluster")
        idea["partners"] = " ".join(partners)
        return idea

    for ki, cid in enumerate(geo.clusters["cluster_id"]):
        members = geo.members(cid)
        if sized:
            g = np.random.default_rng([root, len(prow) + ki, 0])
            want_c, asked_c, k = params.oversubscription * float(holder_money.get((cid, "cluster"), 0.0)), 0.0, 0
            while asked_c < want_c and k < cap:
                idea = cluster_idea(cid, members)
                idea["_id"] = f"P{cid}-cluster-{k + 1:04d}"
                asked_c += first_request(idea)
                rows.append(idea)
                k += 1
            continue
        for _ in range(params.projects_per_cluster):
            rows.append(cluster_idea(cid, members))

    if not rows:
        raise ValueError("the catalogue generator proposed no project: give it a positive "
                         "projects_per_province / projects_per_cluster or holders' money")
    df = pd.DataFrame(rows)
    df["duplicate_group"] = df.get("duplicate_group", pd.Series("", index=df.index)).fillna("")
    if sized:  # ids keyed by holder and rank within it: stable when another holder changes
        df.insert(0, "project_id", df.pop("_id"))
    else:
        df.insert(0, "project_id", [f"P{i + 1:05d}" for i in range(len(df))])
    # follow-ons: a project may need an earlier project of the same province (value chain)
    requires = np.full(len(df), "", dtype=object)
    ids = df["project_id"].to_numpy()
    for pk, idx in enumerate(df.groupby("province", sort=True).indices.values()):
        f = np.random.default_rng([root, 10_000 + pk]) if sized else rng
        for j in range(1, len(idx)):
            if f.random() < params.follow_on_rate:
                requires[idx[j]] = ids[idx[int(f.integers(0, j))]]
    df["requires"] = requires
    # costs: central share by source, and by fiscal year (cost spread evenly over the duration)
    central = df["total_cost"] * (1 - df["min_local_share"])
    for ch, src in CHANNEL_SOURCE.items():
        df[COST_PREFIX + src] = np.where(df["channel"] == ch, central.round(3), 0.0)
    max_years = int(df["years"].max())
    for k in range(max_years):
        df[f"{COST_PREFIX}y{first_year + k}"] = np.where(k < df["years"], (central / df["years"]).round(3), 0.0)
    df = df.drop(columns="years")

    resources = []
    for col in [c for c in df.columns if c.startswith(COST_PREFIX)]:
        resources.append((col[len(COST_PREFIX):], round(params.budget_tightness * df[col].sum(), 3)))
    local_need = (df["total_cost"] * df["min_local_share"]).groupby(df["province"]).sum()
    for iso, need in local_need.items():
        if need > 0:
            resources.append((f"{LOCAL_PREFIX}{iso}", round(params.local_capacity_ratio * need, 3)))
    res = pd.DataFrame(resources, columns=["resource", "capacity"])
    order = ["project_id", "benefit", "total_cost", "province", "cluster", "partners", "strategy",
             "agency", "channel", "duplicate_group", "requires", "min_local_share", "construction",
             "aligned", "problem"]
    df = df[order + [c for c in df.columns if c.startswith(COST_PREFIX)]]
    return ProjectTable(df, res)
