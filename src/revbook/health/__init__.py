"""Account health: point-in-time features, the composite score, the predictive model and its backtest,
survival curves and CLTV."""
