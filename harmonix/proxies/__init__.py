"""Research proxies (valence, trauma, energy parameter): documented composites, never diagnoses."""
