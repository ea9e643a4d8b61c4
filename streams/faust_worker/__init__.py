"""The faust-streaming runtime of the stream worker (``worker.runtime = "faust"``).

Nothing here imports faust at module scope except ``app``, which only ``run_faust_worker`` imports, and
only when the faust runtime is selected.
"""
