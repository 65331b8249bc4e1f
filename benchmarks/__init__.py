"""Scale and request-count measurements of the audit and the sync (issue 7).

``python benchmarks/run.py`` prints the table that ``benchmarks/RESULTS.md`` records.
"""
