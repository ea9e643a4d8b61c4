"""The read model's CLI commands: ``project`` writes it; ``customer``, ``customers``, ``reviews`` read it."""
