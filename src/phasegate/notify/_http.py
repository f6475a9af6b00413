"""One POST of a JSON body, with failures translated into NotifierError (URL redacted)."""

from __future__ import annotations

import httpx

from phasegate.notify.base import NotifierError, Receipt, redact_url


async def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Receipt:
    """POST ``body`` as is: a signature covers these exact bytes."""
    where = redact_url(url)
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.post(
                url, content=body, headers={"Content-Type": "application/json", **headers}
            )
    except httpx.TimeoutException:
        raise NotifierError(f"{where}: no answer within {timeout:g}s") from None
    except httpx.HTTPError as exc:
        raise NotifierError(f"{where}: {type(exc).__name__}: {exc}") from None
    code = response.status_code
    if code >= 300:
        text = response.text.strip().replace("\n", " ")[:200]
        # 408 and 429 are the server asking to come back later; other 4xx will not change.
        retryable = code >= 500 or code in (408, 429)
        raise NotifierError(
            f"{where} answered HTTP {code}" + (f": {text}" if text else ""),
            retryable=retryable,
            status_code=code,
        )
    return Receipt(status_code=code, detail=response.text.strip()[:200])
