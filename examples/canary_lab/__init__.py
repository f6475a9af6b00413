"""canary_lab: real backends behind real nginx/haproxy, for tests, benches and the lab demo."""
