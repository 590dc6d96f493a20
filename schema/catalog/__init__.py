"""The curated catalog: a hand-checked YAML file of facts with their sources."""
