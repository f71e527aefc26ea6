"""Certificate transparency: certstream client, RFC 6962 / static-ct-api log readers, the matcher.

- ``matcher``   the one brand matcher (``Matcher.from_brands``, ``matcher_for(ctx)``, ``explain``)
- ``reader``    direct log reading: verified heads, saved positions, one batch = one commit
- ``rfc6962``, ``static``  the two read APIs; ``client`` HTTP with backoff; ``merkle`` proofs
- ``entries``   TLS encodings and certificates -> names and facts
- ``ingest``    a match -> inventory / cert_issuer Finding / ``discover``
- ``certstream`` the websocket feed (a SERVICE of ``omamori run``)
- ``loglist``   the v3 log list (``data/ct-log-list.json``); ``jobs`` the ct_poll job; ``cli`` commands
"""
