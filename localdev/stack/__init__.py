"""The local development stack: a single-node KRaft Kafka from Maven Central jars and a throwaway Redis.

Docker is not assumed, so each piece is a plain process started detached with a pid file; everything
lives under ``settings.stack.state_dir / f"stack-{kafka_port}"`` so stacks on other ports do not collide.
"""
