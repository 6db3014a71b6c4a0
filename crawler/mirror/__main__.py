"""``python -m crawler.mirror [PORT]``: serve the offline mirror until Ctrl-C.

Point a crawl at it with ``DJCRAWL_MIRROR_URL=http://127.0.0.1:PORT djcrawl crawl --mirror``
or ``scrapy crawl djcrawl -s DJ_MIRROR_URL=http://127.0.0.1:PORT``.
"""

import sys
import time

from .server import MirrorServer


def main() -> int:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with MirrorServer(port=port) as mirror:
        print(f"djcrawl mirror of {len(mirror.sites)} sites on {mirror.url} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
