"""Thresholds written as prose: ``Error rate > 1%``, ``p95 latency above 500ms``,
``Failed health checks (3 consecutive)``, ``> 5% for 5 minutes``.

Values are normalised to the units metrics are exported in: a percentage becomes a ratio
(1% -> 0.01), a time becomes seconds (500ms -> 0.5), a size becomes bytes (50MB -> 52428800,
binary multiples as ps, top and free count them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from phasegate.markdown.memo import memo

_OPS = {
    ">=": ">=",
    "≥": ">=",
    "=>": ">=",
    "<=": "<=",
    "≤": "<=",
    ">": ">",
    "<": "<",
    "exceeds": ">",
    "exceed": ">",
    "exceeding": ">",
    "above": ">",
    "over": ">",
    "greater than": ">",
    "more than": ">",
    "higher than": ">",
    "at least": ">=",
    "below": "<",
    "under": "<",
    "less than": "<",
    "lower than": "<",
    "drops below": "<",
    "drop below": "<",
    "falls below": "<",
    "fall below": "<",
    "at most": "<=",
    # French, Spanish, Portuguese, German (the documents these rounds meet)
    "dépasse": ">",
    "dépassent": ">",
    "supérieur à": ">",
    "supérieure à": ">",
    "au-dessus de": ">",
    "inférieur à": "<",
    "inférieure à": "<",
    "en dessous de": "<",
    "supera": ">",
    "superan": ">",
    "mayor que": ">",
    "por encima de": ">",
    "menor que": "<",
    "por debajo de": "<",
    "excede": ">",
    "ultrapassa": ">",
    "acima de": ">",
    "abaixo de": "<",
    "überschreitet": ">",
    "übersteigt": ">",
    "mehr als": ">",
    "weniger als": "<",
    # blind round 8: "grows past 100k", Vietnamese, Chinese, Italian, Dutch (op before number)
    "grows past": ">",  # never "past" alone: "in the past 5 minutes" is a window
    "grow past": ">",
    "goes past": ">",
    "rises past": ">",
    "climbs past": ">",
    "grows beyond": ">",
    "vượt quá": ">",
    "vượt": ">",
    "cao hơn": ">",
    "thấp hơn": "<",
    "超过": ">",
    "高于": ">",
    "大于": ">",
    "低于": "<",
    "小于": "<",
    "meer dan": ">",
    "boven": ">",
    "minder dan": "<",
    "più di": ">",
    "oltre": ">",
    "meno di": "<",
    "se zyada": ">",
    "se kam": "<",
    # round 11: Finnish, Hungarian, Romanian, Polish, Czech (op before the number)
    "ylittää": ">",
    "mai mult de": ">",
    "mai puțin de": "<",
    "powyżej": ">",
    "poniżej": "<",
    "przekroczy": ">",
    "překročí": ">",
    "több mint": ">",
    "kevesebb mint": "<",
}
# Japanese and Korean put the comparison after the number: "30% を超える", "5% 以上", "1% 미만"
_POSTFIX_OPS = {
    "を超える": ">",
    "を超え": ">",
    "超え": ">",
    "超": ">",
    "を上回る": ">",
    "以上": ">=",
    "を下回る": "<",
    "未満": "<",
    "以下": "<=",
    "초과": ">",
    "이상": ">=",
    "미만": "<",
    "이하": "<=",
    "se zyada": ">",
    "se adhik": ">",
    "से ज़्यादा": ">",
    "से अधिक": ">",
    "se kam": "<",
    # round 11: Hungarian "2% felett", "1% alatt"; Turkish "%3'ün üzerine", "100'den fazla"
    "felett": ">",
    "fölött": ">",
    "fölé": ">",
    "alatt": "<",
    "alá": "<",
    "üzerine": ">",
    "üzerinde": ">",
    "üstüne": ">",
    "üstünde": ">",
    "altına": "<",
    "altında": "<",
    "den fazla": ">",
    "dan fazla": ">",
    "ten fazla": ">",
    "tan fazla": ">",
    "den az": "<",
    "dan az": "<",
}
_OP = "|".join(re.escape(k) for k in sorted(_OPS, key=len, reverse=True))
_UNIT = (
    r"%|ms|milliseconds?|µs|us|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|"
    r"[kmgt]i?b|bytes?|req/s|rps|qps|x|k"
)
_THRESHOLD = re.compile(
    rf"(?P<op>{_OP})\s*(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>{_UNIT})?(?![\w.])",
    re.I,
)
_POSTFIX_OP = "|".join(re.escape(k) for k in sorted(_POSTFIX_OPS, key=len, reverse=True))
_POSTFIX = re.compile(
    rf"(?<![\w.])(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>{_UNIT})?\s*(?:['’][a-zçğıöşü]{{0,3}}\s*)?"
    rf"(?P<op>{_POSTFIX_OP})",
    re.I,
)
# Turkish writes the percent sign first: "%3'ün üzerine", "%0,5'i geçerse"
_PERCENT_FIRST = re.compile(r"(?<![\w%])%\s?(\d+(?:[.,]\d+)?)(?=['’\s])")
_CONSECUTIVE = re.compile(
    r"(?P<n>\d+)\+?\s*(?:consecutive|in a row|successive|straight)|"
    r"(?:consecutive|in a row)\D{0,20}?(?P<n2>\d+)|"
    r"(?P<n3>\d+)\s*(?:times|failures|failed (?:checks?|attempts?|probes?))\s*in a row",
    re.I,
)
_SUSTAINED = re.compile(
    r"(?:for|over|sustained(?: for)?|lasting)\s*(?:>|more than|at least)?\s*"
    r"(?P<num>\d+(?:\.\d+)?)\s*(?:consecutive\s+)?(?P<unit>seconds?|secs?|s|minutes?|mins?|m|hours?|h)\b",
    re.I,
)
_SCALE = {
    "%": ("ratio", 0.01),
    "ms": ("seconds", 0.001),
    "millisecond": ("seconds", 0.001),
    "µs": ("seconds", 1e-6),
    "us": ("seconds", 1e-6),
    "s": ("seconds", 1.0),
    "sec": ("seconds", 1.0),
    "second": ("seconds", 1.0),
    "m": ("seconds", 60.0),
    "min": ("seconds", 60.0),
    "minute": ("seconds", 60.0),
    "h": ("seconds", 3600.0),
    "hr": ("seconds", 3600.0),
    "hour": ("seconds", 3600.0),
    "b": ("bytes", 1.0),
    "byte": ("bytes", 1.0),
    "kb": ("bytes", 1024.0),
    "kib": ("bytes", 1024.0),
    "mb": ("bytes", 1024.0**2),
    "mib": ("bytes", 1024.0**2),
    "gb": ("bytes", 1024.0**3),
    "gib": ("bytes", 1024.0**3),
    "tb": ("bytes", 1024.0**4),
    "tib": ("bytes", 1024.0**4),
    "k": ("", 1000.0),  # "100k messages"
}
_MARKUP = re.compile(r"[*_`]+")
_LEAD = re.compile(r"^[^\w<>≥≤=]+")
_HEALTH = re.compile(
    r"health|liveness|readiness|probe|heartbeat|/healthz?\b|"
    # "`/up` does not return 200 within 2 minutes", "/status is not 200", "non-200" (round 11)
    r"\b(?:does\s+not|doesn['’]t|do\s+not|don['’]t|fails?\s+to|stops?|no\s+longer)\s+"
    r"(?:return(?:ing)?|answer(?:ing)?|respond(?:ing)?(?:\s+with)?|give|serve)\s+(?:an?\s+)?"
    r"(?:http\s+)?(?:status\s+)?2\d\d\b|\b(?:is|are)\s+not\s+(?:http\s+)?2\d\d\b|\bnon-?2\d\d\b",
    re.I,
)
_RELATIVE = re.compile(r"baseline|\bprevious\b|\bstable\b|\bx\b|\d+x\b", re.I)


@dataclass(frozen=True)
class Threshold:
    metric: str  # the words naming what is measured ("error rate"), may be empty
    op: str  # > >= < <=
    value: float  # normalised
    unit: str  # ratio | seconds | bytes | "" (a plain number)
    shown: str  # as written: "> 1%"
    relative: bool  # "> 2x baseline": needs a baseline to compare with

    def condition(self) -> str:
        """The CEL failure condition over a metric's `value`."""
        return f"value {self.op} {_number(self.value)}"


def plain(text: str) -> str:
    """Text without emphasis markers and leading emoji or bullets."""
    return _LEAD.sub("", _MARKUP.sub("", text)).strip()


@memo()  # a pure function of its text (memo.py)
def parse(text: str) -> Threshold | None:
    """The first comparison in the text, with the words before it as the metric."""
    flat = _PERCENT_FIRST.sub(r"\1%", plain(text))
    match = _THRESHOLD.search(flat)
    if match is None:
        match = _POSTFIX.search(flat)
        if match is None:
            return None
        op = _POSTFIX_OPS[match.group("op").lower()]
    else:
        op = _OPS[match.group("op").lower()]
    number = float(match.group("num").replace(",", "."))
    unit_text = (match.group("unit") or "").lower()
    relative = bool(_RELATIVE.search(flat[match.end() :])) or unit_text == "x"
    unit, value = "", number
    key = unit_text.rstrip("s") if unit_text not in ("s", "ms", "us", "µs") else unit_text
    if key in _SCALE:
        unit, scale = _SCALE[key]
        value = number * scale
    metric = flat[: match.start()].strip(" :-–—(")
    return Threshold(
        metric=metric,
        op=op,
        value=round(value, 9),
        unit=unit,
        shown=match.group(0).strip(),
        relative=relative,
    )


def consecutive(text: str) -> int | None:
    match = _CONSECUTIVE.search(plain(text))
    if match is None:
        return None
    n = int(match.group("n") or match.group("n2") or match.group("n3"))
    return n if 1 <= n <= 1000 else None


def sustained(text: str) -> float | None:
    """``for 5 minutes`` -> 300.0 seconds."""
    match = _SUSTAINED.search(plain(text))
    if match is None:
        return None
    unit = match.group("unit").lower()
    key = unit if unit in ("s", "m", "h") else unit.rstrip("s")
    return float(match.group("num")) * _SCALE[key][1]


def is_health(text: str) -> bool:
    return bool(_HEALTH.search(text))


def _number(value: float) -> str:
    text = f"{value:.9f}".rstrip("0").rstrip(".")
    return text if "." in text else text + ".0"


_DURATION = re.compile(
    r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>ms|milliseconds?|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h)\b",
    re.I,
)


def duration(text: str) -> float | None:
    """The first time span in the text, in seconds: ``<5 Minutes Guaranteed`` -> 300.0."""
    match = _DURATION.search(plain(text))
    if match is None:
        return None
    unit = match.group("unit").lower()
    key = unit if unit in ("s", "m", "h", "ms") else unit.rstrip("s")
    return round(float(match.group("num")) * _SCALE[key][1], 6)
