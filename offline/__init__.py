"""The detectors over files, without a broker: ``riskwatch replay`` and ``riskwatch evaluate``.

They share ``streams.processor`` with the stream worker, so a file replayed here gives exactly what the
stream gives, but nothing of the Kafka runtime (consume loop, transactions, broker clients) is loaded.
"""
