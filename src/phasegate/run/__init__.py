"""The run's vocabulary, shared by engine, store and views: ``run.events`` holds one frozen
class per journal event. It imports nothing of phasegate but ``errors``, so every layer above
(store, notifiers, engine, views) may read it."""
