"""Many crawl nodes, one loader: the shared frontier on Redis (scrapy-redis) and the result stream.

A node (``djcrawl crawl --frontier redis://HOST:PORT/DB``) runs the spider and the document
workers as a one-process crawl does, but takes its requests from, and gives new ones to, the
scrapy-redis queue and duplicate filter in Redis, and sends each result to the stream
:data:`RESULTS` instead of a database. The loader (``djcrawl load``) is the only writer of the
DuckDB file: it publishes what earlier runs left (known articles, list validators and pages,
failed articles, seeds) into Redis before any node starts, then stores the stream, a batch a
transaction. One crawl at a time per Redis database; the loader clears its keys once it is done.

Modules: :mod:`.keys` (key names, connection), :mod:`.scheduler` (the queue that remembers what a
node is fetching), :mod:`.node` (heartbeat, idle exit, the node's settings), :mod:`.state` (what the
loader published, shaped as the Store the spider asks), :mod:`.stream` (results in and out),
:mod:`.loader` (the loader).
"""

from .keys import connect, node_settings

__all__ = ["connect", "node_settings"]
