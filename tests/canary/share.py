"""Who served a burst of requests sent through the router, counted at the backends.

Usage: share.py EXPECTED  (environment: APP_URL, STABLE_URL, CANARY_URL)
Reads each backend's own request counter before and after 400 requests to APP_URL (the lab's
background load runs meanwhile, at the same weights) and prints one JSON line: the expected
canary percentage, the measured one, and the counts.
"""

from __future__ import annotations

import json
import os
import sys

import httpx
from prometheus_client.parser import text_string_to_metric_families

BURST = 400


def served(client: httpx.Client, base: str) -> float:
    text = client.get(f"{base}/metrics", timeout=5).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        if family.name == "app_requests":
            total += sum(s.value for s in family.samples if s.name == "app_requests_total")
    return total


def main() -> int:
    expected = int(sys.argv[1])
    app, stable, canary = (os.environ[k] for k in ("APP_URL", "STABLE_URL", "CANARY_URL"))
    with httpx.Client() as client:
        before = served(client, stable), served(client, canary)
        for _ in range(BURST):
            client.get(app, timeout=5)
        after = served(client, stable), served(client, canary)
    stable_n, canary_n = after[0] - before[0], after[1] - before[1]
    share = 100.0 * canary_n / max(stable_n + canary_n, 1)
    print(
        json.dumps(
            {"expected": expected, "share": round(share, 2), "stable": stable_n, "canary": canary_n}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
