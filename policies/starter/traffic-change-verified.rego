# Seed 002, Rollout Strategy: every traffic change is verified before the next one.
# A `set_weight` step must be followed at once by an analysis step, an approval pause or a
# step with pre_gates; the last step of a phase may rely on the phase's gates instead; a
# phase with a background `analysis:` verifies all of its traffic changes.
package phasegate.starter.traffic_change_verified

import rego.v1

enforcement := "soft"

deny contains {"msg": msg, "path": ["phases", i, "steps", j, "set_weight"]} if {
	some i, phase in input.phases
	some j, step in phase.steps
	has_key(step, "set_weight")
	not has_key(phase, "analysis")
	not verified_after(phase, j)
	msg := sprintf("traffic change in phase %v is not followed by an analysis or a gate", [phase.id])
}

has_key(x, k) if {
	is_object(x)
	_ = x[k]
}

verified_after(phase, j) if verifies(phase.steps[j + 1])

verified_after(phase, j) if {
	j == count(phase.steps) - 1
	count(phase.gates) > 0
}

verifies(s) if has_key(s, "analysis")

verifies(s) if count(s.pre_gates) > 0

verifies(s) if s.pause == "approve"

verifies(s) if s.pause.until == "approve"
