"""全件出力の承認 (two-person rule for bulk exports): requests, decisions, and running the approved export.

``actions`` writes (each step audited), ``queries`` reads, ``access`` fetches one request
for the caller ("not found" for another municipality's). See docs/portability.md.
"""
