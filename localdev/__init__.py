"""Development tooling, kept out of the production runtime: the local Kafka + Redis stack, the demo and
the synthetic traffic it sends. ``streams`` never imports this package; it imports ``streams``."""
