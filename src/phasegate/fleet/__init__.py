"""Fleets: the hosts a phase runs on and how it walks them.

- ``inventory``: Ansible YAML / INI inventories, ``ansible-inventory --list`` JSON and inline
  lists, read into one model (hosts, groups, labels);
- ``select``: a plan's ``targets:`` resolved to hosts, ``hosts:`` CEL selectors, ``--limit``;
- ``batching``: batches and failure budgets, pure functions.
"""
