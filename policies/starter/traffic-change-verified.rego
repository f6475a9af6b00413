# Seed 002, Rollout Strategy: every traffic change is verified before the next one.
# A `set_weight` step must be followed at once by an analysis step, an approval pause or a
# step with pre_gates; the last step of a phase may rely on the phase's gates instead; a
# phase with a background `analysis:` verifies all of its traffic changes.
package phasegate.starter.traffic_change_verified

import rego.v1

enforcement := "soft"

# (Helpers take the nodes, never indexes into input: rego-cpp evaluates a function of
# indexes once per pair of them, which is quadratic on a big plan.)
deny contains {"msg": msg, "path": ["phases", i, "steps", j, "set_weight"]} if {
	some i, phase in input.phases
	some j, step in phase.steps
	has_key(step, "set_weight")
	not has_key(phase, "analysis")
	j + 1 < count(phase.steps)
	not verifies(phase.steps[j + 1])
	msg := sprintf("traffic change in phase %v is not followed by an analysis or a gate", [phase.id])
}

deny contains {"msg": msg, "path": ["phases", i, "steps", j, "set_weight"]} if {
	some i, phase in input.phases
	some j, step in phase.steps
	has_key(step, "set_weight")
	not has_key(phase, "analysis")
	j + 1 == count(phase.steps)
	not count(phase.gates) > 0
	msg := sprintf("traffic change in phase %v is not followed by an analysis or a gate", [phase.id])
}

has_key(x, k) if {
	is_object(x)
	_ = x[k]
}

verifies(s) if has_key(s, "analysis")

verifies(s) if count(s.pre_gates) > 0

verifies(s) if s.pause == "approve"

verifies(s) if s.pause.until == "approve"
