"""The closed-loop demo: loan applications whose population and default behaviour drift, a
served model that starts failing them, a monitor that notices, and the retraining pipeline that
gates, canaries and promotes the fix. ``mlpilot demo`` runs it on the embedded default store."""
