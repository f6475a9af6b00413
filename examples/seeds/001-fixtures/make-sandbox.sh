#!/usr/bin/env bash
# Build a sandbox for examples/seeds/001-staged-framework.yaml.
#
#   make-sandbox.sh DIR
#
# creates
#   DIR/framework/   the framework source (the seed's FRAMEWORK_SOURCE): the 9 framework files,
#                    with the strings the plan's checks look for (MANDATORY_FUNCTIONS, the five
#                    quality gate names)
#   DIR/agents/      the agents directory (the seed's FRAMEWORK_TARGET) as it is before the
#                    rollout: the legacy AGENT_FRAMEWORK.md, four sample agents, an *older*
#                    COMMON_ONEX_STANDARDS.md that the rollout replaces, and files that a careless
#                    restore gets wrong: a dotfile (`cp -R dir/*` skips it), a 0600 settings file
#                    and a 0755 hook in a subdirectory (modes must come back too)
# and prints the --var flags for `phasegate run`.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
root=$1
if [ -e "$root/framework" ] || [ -e "$root/agents" ]; then
    echo "$0: $root already holds a sandbox; remove it first" >&2
    exit 1
fi
umask 022
source_dir="$root/framework"
target_dir="$root/agents"
mkdir -p "$source_dir" "$target_dir/hooks"

framework_file() {  # NAME TITLE [BODY...]
    local name=$1 title=$2
    shift 2
    {
        printf '# %s\n\nHybrid Architecture Framework v2.0.0 - %s\n\n' "${name%.md}" "$title"
        printf '%s\n' "$@"
    } > "$source_dir/$name"
}

framework_file AGENT_COMMON_HEADER.md "common header every agent includes" \
    "Include with: @AGENT_COMMON_HEADER.md" \
    "Then load @MANDATORY_FUNCTIONS.md and @COMMON_WORKFLOW.md."
framework_file MANDATORY_FUNCTIONS.md "the 47 mandatory functions" \
    "MANDATORY_FUNCTIONS: every agent must provide the functions below." \
    "- initialize_agent()" "- validate_context()" "- report_status()"
framework_file COMMON_WORKFLOW.md "shared workflow" \
    "performance_gates: access time < 0.5ms, initialization < 0.3ms, memory < 15MB."
framework_file COMMON_CONTEXT_LIFECYCLE.md "context lifecycle" \
    "context_gates: context is created, inherited and released exactly once."
framework_file COMMON_ONEX_STANDARDS.md "ONEX standards" \
    "compliance_gates: naming, typing and error-handling standards." \
    "architecture_gates: layering and dependency rules."
framework_file COMMON_AGENT_PATTERNS.md "agent patterns" \
    "Patterns for coordinator, debugger, API architect and quality analyzer agents."
framework_file COMMON_RAG_INTELLIGENCE.md "RAG intelligence" \
    "intelligence_gates: retrieval quality thresholds."
framework_file COMMON_TEMPLATES.md "templates" \
    "Templates for new agents."
framework_file COMMON_CONTEXT_INHERITANCE.md "context inheritance" \
    "How agents inherit context from the common header."

# The agents directory before the rollout.
printf '# AGENT_FRAMEWORK\n\nLegacy monolithic framework (v1).\n' > "$target_dir/AGENT_FRAMEWORK.md"
printf '# COMMON_ONEX_STANDARDS\n\nv1 standards, replaced by the rollout.\n' \
    > "$target_dir/COMMON_ONEX_STANDARDS.md"
for agent in agent-workflow-coordinator agent-debug-intelligence agent-api-architect \
    agent-code-quality-analyzer; do
    printf -- '---\nname: %s\n---\n\n@AGENT_FRAMEWORK.md\n' "$agent" > "$target_dir/$agent.md"
done
printf 'framework=1.4.2\n' > "$target_dir/.framework-version"
printf '{"telemetry": false}\n' > "$target_dir/settings.local.json"
chmod 0600 "$target_dir/settings.local.json"
printf '#!/bin/sh\nexit 0\n' > "$target_dir/hooks/pre-agent.sh"
chmod 0755 "$target_dir/hooks/pre-agent.sh"

echo "--var SOURCE=$source_dir --var TARGET=$target_dir"
