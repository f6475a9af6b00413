# Seed 002, Security: no `sudo` (as a command: at the start of a line or after ; && || | or ()
# and no piping a download into a shell (`curl … | sh`)
# unless a person approved it first: the step has a manual pre_gate, or the step before it
# is an approval pause (`pause: approve`).
package phasegate.starter.risky_commands_approved

import rego.v1

enforcement := "soft"

sudo := `(^|[;&|(\n]\s*)sudo(\s|$)`

pipe_to_shell := `(curl|wget)[^|\n]*\|\s*(sudo\s+)?(ba|z|da|k)?sh(\s|$)`

deny contains {"msg": msg, "path": ["phases", i, "steps", j, "run"]} if {
	some i, phase in input.phases
	some j, step in phase.steps
	risky(step)
	not gated(step)
	not approval_pause(phase.steps[j - 1]) # undefined for the first step: not approved
	msg := sprintf("step %v of phase %v runs sudo or pipes a download into a shell without an approval before it", [j + 1, phase.id])
}

risky(step) if {
	is_string(step.run)
	contains(step.run, "sudo")
	regex.match(sudo, step.run)
}

risky(step) if {
	is_string(step.run)
	contains(step.run, "|")
	regex.match(pipe_to_shell, step.run)
}

risky(step) if {
	is_array(step.run)
	step.run[0] == "sudo"
}

gated(step) if {
	some gate in step.pre_gates
	is_object(gate)
	_ = gate.manual
}

approval_pause(s) if s.pause == "approve"

approval_pause(s) if s.pause.until == "approve"
