# Seed 002, Phase 4: "Rollback completes in < 2 minutes". A production plan (metadata:
# {environment: production}) states the rollback time it allows: `budget: {rollback: …}`.
package phasegate.starter.production_rollback_budget

import rego.v1

enforcement := "hard"

production if input.metadata.environment in {"production", "prod"}

deny contains {"msg": "a production plan needs a rollback budget (budget: {rollback: 2m})", "path": where} if {
	production
	not budgeted
}

budgeted if {
	is_object(input.budget)
	_ = input.budget.rollback
}

where := ["budget"] if {
	_ = input.budget
} else := ["metadata", "environment"]
