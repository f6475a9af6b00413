# Seed 002, Team Responsibilities / Compliance: a production rollout is signed off by two
# people, neither of them whoever started it: a manual gate (a phase's gates or a step's
# pre_gates) with `approvers: 2` (or more) and `prevent_self_review: true`.
package phasegate.starter.production_two_approvers

import rego.v1

enforcement := "soft"

production if input.metadata.environment in {"production", "prod"}

deny contains {"msg": msg, "path": ["metadata", "environment"]} if {
	production
	not four_eyes
	msg := "a production plan needs a manual gate with approvers: 2 and prevent_self_review: true"
}

four_eyes if {
	some gate in gates
	is_object(gate)
	_ = gate.manual
	gate.approvers >= 2
	gate.prevent_self_review == true
}

gates contains gate if {
	some phase in input.phases
	some gate in phase.gates
}

gates contains gate if {
	some phase in input.phases
	some step in phase.steps
	some gate in step.pre_gates
}
