"""HTTP: health, readiness, Prometheus metrics and the dashboard, over the service layer."""
