"""djcrawl's processing stages, each a module of pure functions:

decode (bytes -> str) -> extract (HTML -> text + metadata) -> clean (boilerplate out,
metadata lifted) -> normalize (script, OpenCC, NFKC, tokens, keywords) -> store (DuckDB).
``process`` chains them; ``scrapy_pipelines`` wraps them for Scrapy.
"""
