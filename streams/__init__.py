"""The production streaming runtime around the detection core: Kafka clients, the stream worker, state
storage, metrics, the officers' commands and the command line. Development tooling is ``localdev``,
the offline runs are ``offline``."""
