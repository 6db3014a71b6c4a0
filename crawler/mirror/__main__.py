"""``python -m crawler.mirror [PORT]``: serve the offline mirror until Ctrl-C.

Point a crawl at it with ``DJCRAWL_MIRROR_URL=http://127.0.0.1:PORT djcrawl crawl --mirror``
or ``scrapy crawl djcrawl -s DJ_MIRROR_URL=http://127.0.0.1:PORT``.
"""

import argparse
import sys
import time

from .server import MirrorServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.mirror",
        description="Serve the offline mirror of every configured site on 127.0.0.1 until Ctrl-C.",
        epilog="Crawl through it with DJCRAWL_MIRROR_URL=http://127.0.0.1:PORT djcrawl crawl --mirror",
    )
    parser.add_argument("port", nargs="?", type=int, default=0,
                        help="the port to listen on (default 0: any free port, printed at start)")
    args = parser.parse_args(argv)
    with MirrorServer(port=args.port) as mirror:
        print(f"djcrawl mirror of {len(mirror.sites)} sites on {mirror.url} (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
