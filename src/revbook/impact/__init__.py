"""Who moved the number: expansion attribution (csm, ae, product, self-serve or ambiguous),
concentration and masking, save verification, risk-adjusted CSM impact, capacity and the change
of a book over a window.

Each feature is one module with library functions that take a Store and return Frames; the
surfaces render them. This package sits beside rum/: it reads the metrics, health and insights
below it and is read by the public API and the surfaces above it.
"""
