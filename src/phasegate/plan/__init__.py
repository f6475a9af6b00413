"""The plan: YAML source with marks -> validated, immutable model -> semantics (ids, DAG,
variables, CEL). Knows nothing of the engine, the Markdown importer or the store."""
