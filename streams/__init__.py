"""Thin wiring around the detection core: Kafka, state storage, metrics and the command line."""
