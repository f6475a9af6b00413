"""One GET for the HTTP-based providers, with httpx's errors translated to ProviderError."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from phasegate.metrics.base import ProviderError
from phasegate.plugin import hide_password, read_capped

# Far more than any metrics answer a check can judge; a larger body is a misdirected URL.
BODY_LIMIT = 16 << 20


async def get(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str],
    timeout: float,
    verify: bool,
) -> tuple[httpx.Response, str]:
    """GET ``url``; return the response and its body as text.

    Messages name the URL with any password hidden, never the headers (they carry tokens).
    """
    target = f"GET {hide_password(url)}"
    try:
        return await asyncio.wait_for(_get(url, params, headers, timeout, verify), timeout)
    except (TimeoutError, httpx.TimeoutException):
        raise ProviderError(f"{target}: no answer in {timeout:g}s") from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
        raise ProviderError(f"{target}: cannot send: {exc}") from exc
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        what = "cannot connect" if isinstance(exc, httpx.ConnectError) else "broken response"
        raise ProviderError(f"{target}: {what}: {reason}") from exc


async def _get(
    url: str,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str],
    timeout: float,
    verify: bool,
) -> tuple[httpx.Response, str]:
    async with httpx.AsyncClient(verify=verify, follow_redirects=True, timeout=timeout) as client:
        request = client.build_request("GET", url, params=params, headers=dict(headers))
        response = await client.send(request, stream=True)
        body, truncated = await read_capped(response, BODY_LIMIT)
    if truncated:
        raise ProviderError(
            f"GET {hide_password(url)}: the answer is larger than "
            f"{BODY_LIMIT >> 20} MB; is this the right URL?"
        )
    return response, body.decode(response.encoding or "utf-8", errors="replace")
