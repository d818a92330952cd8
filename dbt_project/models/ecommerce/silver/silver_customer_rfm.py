"""Customer RFM segmentation: one row per customer with at least one non-cancelled order.

A Python model because the scoring is a pipeline of steps plus a rule table the business
reviews: in Python each step is a small named function and the rules are data (one list,
below), which the same code turns into SQL for the warehouse and evaluates in plain Python for
tests. The work itself stays in the engine: on dbt-duckdb `dbt.ref()` is a lazy DuckDB relation
and `score_relation` only composes relational steps on it (filter, aggregate, window ranks, a
CASE rendered from SEGMENT_RULES); the model returns that relation and DuckDB runs it once,
vectorised, while the table is written: no row crosses into Python. On Databricks (a Spark
DataFrame) the same scoring runs in pandas (`score_customers`), the reference implementation
the DuckDB path is tested against (`test_dbt_project.py`). Only `score_customers` imports
pandas: at the top of the module the import alone would add ~0.3 s to every DuckDB build.
Redshift and PostgreSQL run no Python models, so the model is disabled there.

Scores are 1 (worst) to 5 (best), by quintile of rank among customers:
  recency   days from the customer's last order to the newest order date in the data (fewer is better)
  frequency number of orders
  monetary  revenue of those orders
"""

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for the annotations only: score_customers imports it when it runs
    import pandas as pd

# First matching rule wins: (segment, {score: (lowest, highest) it may take, inclusive}); a
# score a rule does not name may take any value. Scores are 1..5.
SEGMENT_RULES = [
    ("Champions", {"r": (4, 5), "f": (4, 5), "m": (4, 5)}),
    ("Loyal", {"r": (3, 5), "f": (4, 5)}),
    ("Big spenders", {"m": (5, 5)}),
    ("New", {"r": (4, 5), "f": (1, 2)}),
    ("At risk", {"r": (1, 2), "f": (3, 5)}),
    ("Hibernating", {"r": (1, 2), "f": (1, 2)}),
]
DEFAULT_SEGMENT = "Needs attention"

COLUMNS = [
    "user_id", "first_order_date", "last_order_date", "orders", "revenue", "recency_days",
    "r_score", "f_score", "m_score", "rfm_score", "segment", "scored_as_of",
]

# --------------------------------------------------------------------------- the rules


def segment_for(r: int, f: int, m: int) -> str:
    scores = {"r": r, "f": f, "m": m}
    for name, bounds in SEGMENT_RULES:
        if all(low <= scores[score] <= high for score, (low, high) in bounds.items()):
            return name
    return DEFAULT_SEGMENT


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def segment_case_sql() -> str:
    """SEGMENT_RULES as one SQL CASE over r_score, f_score, m_score (first match wins)."""
    whens = [
        "when "
        + " and ".join(f"{score}_score between {low} and {high}" for score, (low, high) in bounds.items())
        + f" then {_sql_string(name)}"
        for name, bounds in SEGMENT_RULES
    ]
    return "case " + " ".join(whens) + f" else {_sql_string(DEFAULT_SEGMENT)} end"


def quintile_score_sql(column: str, higher_is_better: bool) -> str:
    """1..5 by quintile of rank; equal values share the lower rank (rank(), like pandas'
    method="min"), so the score depends on the values only, never on row order."""
    direction = "asc" if higher_is_better else "desc"
    rank = f"rank() over (order by {column} {direction})"
    return f"cast(greatest(1, ceil(cast(5 * {rank} as double) / cast(count(*) over () as double))) as bigint)"


# --------------------------------------------------------------------------- DuckDB (relations)


def score_relation(orders):
    """orders: a DuckDB relation with one row per order (user_id, order_id, order_date,
    line_revenue, is_cancelled). Returns a lazy relation with COLUMNS, one row per customer;
    the same rows, values and types as score_customers."""
    # The newest order date counts every kept order, also one without a user (pandas drops
    # that group after taking the maximum). count(order_id) = pandas' nunique: order_id is
    # silver_orders' unique key (merged on it, and its `unique` test runs before this model);
    # a distinct count would cost more than the rest of the model.
    customers = (
        orders.filter("not coalesce(is_cancelled, false)")
        .aggregate(
            """
            user_id,
            min(order_date) as first_order_date,
            max(order_date) as last_order_date,
            count(order_id) as orders,
            round(coalesce(cast(sum(line_revenue) as double), 0), 2) as revenue
            """,
            "user_id",
        )
        .project("*, max(last_order_date) over () as scored_as_of")
        .filter("user_id is not null")
    )
    with_recency = customers.project("*, cast(scored_as_of - last_order_date as bigint) as recency_days")
    scored = with_recency.project(
        f"""
        *,
        {quintile_score_sql("recency_days", higher_is_better=False)} as r_score,
        {quintile_score_sql("orders", higher_is_better=True)} as f_score,
        {quintile_score_sql("revenue", higher_is_better=True)} as m_score
        """
    )
    return scored.project(
        f"""
        user_id, first_order_date, last_order_date, cast(orders as bigint) as orders, revenue,
        recency_days, r_score, f_score, m_score,
        cast(r_score as varchar) || cast(f_score as varchar) || cast(m_score as varchar) as rfm_score,
        {segment_case_sql()} as segment,
        scored_as_of
        """
    ).order("user_id")


# --------------------------------------------------------------------------- pandas (reference, Databricks)


def quintile_score(values: "pd.Series", higher_is_better: bool) -> "pd.Series":
    """1..5 by quintile of rank; equal values share the lower rank (and score), so the score
    depends on the values only, never on row order."""
    if values.empty:
        return values.astype("int64")
    ranks = values.rank(method="min", ascending=higher_is_better)
    count = len(values)
    return ranks.map(lambda rank: max(1, math.ceil(5 * rank / count))).astype("int64")


def score_customers(orders: "pd.DataFrame") -> "pd.DataFrame":
    """orders: one row per order with user_id, order_date, line_revenue, is_cancelled."""
    import pandas as pd  # here, not at the top: the DuckDB path never needs it (module docstring)

    kept = orders.loc[~orders["is_cancelled"].astype(bool)].copy()
    if kept.empty:
        return pd.DataFrame(columns=COLUMNS)
    kept["order_date"] = pd.to_datetime(kept["order_date"])
    kept["line_revenue"] = kept["line_revenue"].astype(float)
    as_of = kept["order_date"].max()

    customers = (
        kept.groupby("user_id", as_index=False)
        .agg(
            first_order_date=("order_date", "min"),
            last_order_date=("order_date", "max"),
            orders=("order_id", "nunique"),
            revenue=("line_revenue", "sum"),
        )
        .sort_values("user_id", kind="stable")
        .reset_index(drop=True)
    )
    customers["revenue"] = customers["revenue"].round(2)
    customers["recency_days"] = (as_of - customers["last_order_date"]).dt.days.astype("int64")
    customers["r_score"] = quintile_score(customers["recency_days"], higher_is_better=False)
    customers["f_score"] = quintile_score(customers["orders"], higher_is_better=True)
    customers["m_score"] = quintile_score(customers["revenue"], higher_is_better=True)
    customers["rfm_score"] = (
        customers["r_score"].astype(str) + customers["f_score"].astype(str) + customers["m_score"].astype(str)
    )
    customers["segment"] = [
        segment_for(r, f, m)
        for r, f, m in zip(customers["r_score"], customers["f_score"], customers["m_score"])
    ]
    customers["first_order_date"] = customers["first_order_date"].dt.date
    customers["last_order_date"] = customers["last_order_date"].dt.date
    customers["scored_as_of"] = as_of.date()
    customers["orders"] = customers["orders"].astype("int64")
    return customers[COLUMNS]


def model(dbt, session):
    dbt.config(materialized="table")
    orders = dbt.ref("silver_orders")
    columns = ["order_id", "user_id", "order_date", "line_revenue", "is_cancelled"]
    if type(orders).__module__.startswith("duckdb"):  # DuckDB relation: scored in DuckDB, lazily
        return score_relation(orders.project(", ".join(columns)))
    # Spark DataFrame (Databricks)
    return score_customers(orders.select(*columns).toPandas())
