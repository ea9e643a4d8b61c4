"""The Redis read model of the output topics: ``projector`` writes it, ``queries`` read it.

Redis holds nothing riskwatch's correctness depends on: every key can be rebuilt from the topics
(``riskwatch project --rebuild``), and the projector's per-partition offsets live in Redis beside the data
they produced, so the read model is always the topics up to those offsets.
"""
