"""The policy input: the plan as written (YAML parsed, anchors expanded), and where each of
its nodes is in the source.

Rules see what the author wrote, as conftest sees a YAML file, so a rule's path into it is a
path into the source map (``plan.yamlsource``) and names a file:line:col. A Markdown document
is seen as the plan its import made; its nodes are located in the document. The value of a
variable marked ``secret: true`` is replaced by a mask: a rule can see that a literal is
there, never what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phasegate.masking import PLAN_MASK
from phasegate.plan.loader import LoadedPlan
from phasegate.plan.yamlsource import SourceMap, load_yaml
from phasegate.policy.model import JsonPath
from phasegate.run.record import JsonDict, JsonValue


@dataclass(frozen=True)
class PlanDocument:
    # The plan as written (JSON: YAML timestamps load as text), plus the run's facts at run
    # time, which engine/policing.py adds as it types them (dict[str, object]).
    data: dict[str, Any]
    smap: SourceMap
    file: str
    # Markdown imports whose map cites the imported YAML, not the document: no positions.
    located: bool = True

    def locate(self, path: JsonPath) -> tuple[int | None, int | None]:
        if not self.located:
            return None, None
        # The key's position: a mapping's value starts on the line below its key.
        return self.smap.locate(path, key=True)

    def has(self, path: JsonPath) -> bool:
        node: JsonValue = self.data
        for part in path:
            if isinstance(part, int):
                if not isinstance(node, list) or not 0 <= part < len(node):
                    return False
                node = node[part]
            else:
                if not isinstance(node, dict) or part not in node:
                    return False
                node = node[part]
        return True


def plan_document(loaded: LoadedPlan) -> PlanDocument:
    data, _ = load_yaml(loaded.text, loaded.smap.file)
    if not isinstance(data, dict):  # a loaded plan is a mapping; keep the type checker honest
        data = {}
    masked = _mask_secrets(data)
    located = loaded.source_sha256 is None or loaded.smap_in_document
    return PlanDocument(masked, loaded.smap, str(loaded.path), located)


def document_from_data(data: JsonDict, file: str = "<plan>") -> PlanDocument:
    """A plan given as data (tests, the bench): no source positions."""
    return PlanDocument(_mask_secrets(data), SourceMap(file=file), file, located=False)


def _mask_secrets(data: JsonDict) -> JsonDict:
    variables = data.get("vars")
    if not isinstance(variables, dict):
        return data
    masked: JsonDict = {}
    for name, spec in variables.items():
        hidden = isinstance(spec, dict) and spec.get("secret") is True and spec.get("value")
        masked[name] = {**spec, "value": PLAN_MASK} if isinstance(spec, dict) and hidden else spec
    return {**data, "vars": masked}
