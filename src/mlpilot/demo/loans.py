"""Synthetic loan applications, month by month, with real drift.

Months 1-6 are a stable population. From month 7 a downturn sets in and is complete by month 9:
incomes fall, loans grow, credit scores drop, longer terms and business loans become common
(covariate drift), and debt-to-income starts to matter far more for defaults while the credit
score matters less (concept drift). A model trained on the first half keeps its inputs valid but
loses accuracy on the second; one retrained on recent months recovers it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FEATURES", "LABEL", "applications", "history"]

LABEL = "default"
FEATURES = ["income", "loan_amount", "term_months", "credit_score", "age", "employment_years", "region", "purpose"]
REGIONS = ["north", "south", "east", "west"]
PURPOSES = ["car", "home", "education", "business", "debt"]


def _downturn(month: int) -> float:
    """0 up to month 6, rising linearly to 1 at month 9."""
    return float(np.clip((month - 6) / 3, 0.0, 1.0))


def applications(month: int, rows: int, *, seed: int = 0) -> pd.DataFrame:
    """``rows`` applications of ``month`` (1 = the first), with the true outcome in ``default``."""
    rng = np.random.default_rng([seed, month])
    d = _downturn(month)
    income = rng.lognormal(10.9 - 0.3 * d, 0.35, rows).round(-2)
    loan = rng.lognormal(9.5 + 0.45 * d, 0.5, rows).round(-2)
    credit = np.clip(rng.normal(700 - 55 * d, 55, rows), 300, 850).round()
    age = np.clip(rng.normal(41, 11, rows), 18, 80).round()
    employment = np.clip(rng.exponential(7 - 3 * d, rows), 0, 40).round(1)
    term = rng.choice([36, 60], rows, p=[0.75 - 0.35 * d, 0.25 + 0.35 * d])
    region = rng.choice(REGIONS, rows, p=[0.3, 0.25 + 0.1 * d, 0.25 - 0.05 * d, 0.2 - 0.05 * d])
    purpose_p = np.array([0.3, 0.25, 0.15, 0.1 + 0.25 * d, 0.2]) - np.array([0, 0.1, 0.05, 0, 0.1]) * d
    purpose = rng.choice(PURPOSES, rows, p=purpose_p / purpose_p.sum())
    dti = loan / income
    logit = (
        -1.6
        - 1.0 * d
        + (1.5 + 7.0 * d) * (dti - 0.3)
        - (0.016 - 0.012 * d) * (credit - 680)
        - 0.05 * employment
        + 0.3 * (term == 60)
        + (0.2 + 0.8 * d) * (purpose == "business")
        + 0.25 * d * (region == "south")
    )
    default = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "month": month,
            "income": income,
            "loan_amount": loan,
            "term_months": term,
            "credit_score": credit,
            "age": age,
            "employment_years": employment,
            "region": region,
            "purpose": purpose,
            LABEL: default.astype(int),
        }
    )


def history(first: int, last: int, rows_per_month: int, *, seed: int = 0) -> pd.DataFrame:
    """Months ``first`` to ``last`` (inclusive), one after the other."""
    frames = [applications(month, rows_per_month, seed=seed) for month in range(first, last + 1)]
    return pd.concat(frames, ignore_index=True)
