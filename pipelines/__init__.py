"""djcrawl's domain library: pure stages from fetched bytes to stored documents.

decode (bytes -> str) -> extract (HTML -> text + metadata) -> clean (boilerplate out,
metadata lifted) -> normalize (script, OpenCC, NFKC, tokens, keywords) -> index
(fingerprint, relevance) -> documents (the composer) -> store (DuckDB) through ingest;
workers run the chain in processes. Modules import only the layers below them
(README, "Layout"; tests/test_layers.py).
"""
