"""Ingest: from parsed feed records to the catalog (identity, apply, runs, offline load)."""
