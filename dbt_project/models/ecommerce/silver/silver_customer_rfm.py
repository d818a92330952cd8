"""Customer RFM segmentation: one row per customer with at least one non-cancelled order.

Python rather than SQL because the scoring is a ranking, a binning and an ordered rule table:
in pandas each is one readable line and the rules live in one list that the business can
review (and `score_customers` can be tested with plain pandas), where SQL would need a window
per score and a long CASE. The model runs on dbt-duckdb (DuckDB relation -> pandas) and on
Databricks (Spark DataFrame -> pandas); Redshift and PostgreSQL run no Python models, so it is
disabled there.

Scores are 1 (worst) to 5 (best), by quintile of rank among customers:
  recency   days from the customer's last order to the newest order date in the data (fewer is better)
  frequency number of orders
  monetary  revenue of those orders
"""

import math

import pandas as pd

# First matching rule wins; (segment, rule on the r, f, m scores).
SEGMENT_RULES = [
    ("Champions", lambda r, f, m: r >= 4 and f >= 4 and m >= 4),
    ("Loyal", lambda r, f, m: r >= 3 and f >= 4),
    ("Big spenders", lambda r, f, m: m >= 5),
    ("New", lambda r, f, m: r >= 4 and f <= 2),
    ("At risk", lambda r, f, m: r <= 2 and f >= 3),
    ("Hibernating", lambda r, f, m: r <= 2 and f <= 2),
]
DEFAULT_SEGMENT = "Needs attention"

COLUMNS = [
    "user_id", "first_order_date", "last_order_date", "orders", "revenue", "recency_days",
    "r_score", "f_score", "m_score", "rfm_score", "segment", "scored_as_of",
]


def quintile_score(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """1..5 by quintile of rank; equal values share the lower rank (and score), so the score
    depends on the values only, never on row order."""
    if values.empty:
        return values.astype("int64")
    ranks = values.rank(method="min", ascending=higher_is_better)
    count = len(values)
    return ranks.map(lambda rank: max(1, math.ceil(5 * rank / count))).astype("int64")


def segment_for(r: int, f: int, m: int) -> str:
    return next((name for name, rule in SEGMENT_RULES if rule(r, f, m)), DEFAULT_SEGMENT)


def score_customers(orders: pd.DataFrame) -> pd.DataFrame:
    """orders: one row per order with user_id, order_date, line_revenue, is_cancelled."""
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
    if hasattr(orders, "df"):  # DuckDB relation
        frame = orders.project(", ".join(columns)).df()
    else:  # Spark DataFrame (Databricks)
        frame = orders.select(*columns).toPandas()
    return score_customers(frame)
