"""The feed pipeline: adapters that turn one snapshot's bytes into normalized records."""
