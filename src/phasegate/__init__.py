"""phasegate: executable rollout plans with gates, automatic rollback and crash-safe resume."""

__version__ = "0.1.0"
