"""The stream worker: input topics in, alerts, customer-risk and dead letters out, exactly once."""
