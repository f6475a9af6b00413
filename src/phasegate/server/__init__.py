"""``phasegate serve``: the REST API over the journal, its tokens and its worker pool.

Layers, outermost first: ``app`` (the FastAPI application and its error envelope), ``api/``
(one router per resource), ``auth`` (who is asking), ``workers`` (the processes that execute
runs), and the state directory underneath, shared with the CLI.
"""
