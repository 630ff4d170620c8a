"""Account health: survival curves and customer lifetime value (:mod:`revbook.health.survival`)."""
