# Seed 002, Security: no credentials in the plan. A variable that is secret by name (TOKEN,
# PASSWORD, SECRET, API_KEY, PRIVATE_KEY) or marked `secret: true` comes from the
# environment (`{env: NAME, secret: true}`), never as a literal; no step's command or env
# holds a credential.
package phasegate.starter.no_literal_secrets

import rego.v1

enforcement := "hard"

secret_name := `(TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY|PRIVATE_?KEY|token|password|passwd|secret|api_?key|private_?key)`

credential := `(AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36}|xox[abprs]-[A-Za-z0-9-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----)`

literal(v) if {
	is_string(v)
	v != ""
	not contains(v, "${")
}

deny contains {"msg": sprintf("variable %v is a literal secret: read it from the environment ({env: NAME, secret: true})", [name]), "path": ["vars", name]} if {
	some name, spec in input.vars
	literal_secret(name, spec)
}

literal_secret(name, spec) if {
	regex.match(secret_name, name)
	literal(spec)
}

literal_secret(name, spec) if {
	regex.match(secret_name, name)
	literal(spec.value)
}

literal_secret(_, spec) if {
	spec.secret == true
	literal(spec.value)
}

deny contains {"msg": "the command holds a credential: pass it through a secret variable", "path": ["phases", i, "steps", j, "run"]} if {
	some i, phase in input.phases
	some j, step in phase.steps
	is_string(step.run)
	some marker in ["AKIA", "gho_", "ghp_", "ghu_", "ghs_", "ghr_", "xox", "PRIVATE KEY"]
	contains(step.run, marker) # cheap before the expression (as in the CEL twin)
	regex.match(credential, step.run)
}

deny contains {"msg": "the step's env holds a literal secret: use ${VAR} of a secret variable", "path": ["phases", i, "steps", j, "env"]} if {
	some i, phase in input.phases
	some j, step in phase.steps
	some key, value in step.env
	literal(value)
	regex.match(secret_name, key)
}
