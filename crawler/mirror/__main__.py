"""``python -m crawler.mirror [PORT]``: serve the offline mirror until Ctrl-C.

Point a crawl at it with ``DJ_MIRROR_URL=http://127.0.0.1:PORT djcrawl crawl --mirror``
(``--mirror`` uses the one running at ``DJ_MIRROR_URL``, else starts its own) or
``scrapy crawl djcrawl -s DJ_MIRROR_URL=http://127.0.0.1:PORT``. A port that is taken
or out of range is one line on stderr and exit 1 (2 for a port that is not a number).
"""

import argparse
import sys
import time

from .server import MirrorServer


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0-65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.mirror",
        description="Serve the offline mirror of every configured site on 127.0.0.1 until Ctrl-C.",
        epilog="Crawl through it with DJ_MIRROR_URL=http://127.0.0.1:PORT djcrawl crawl --mirror "
               "(without DJ_MIRROR_URL, --mirror and djcrawl demo start a mirror of their own).",
    )
    parser.add_argument("port", nargs="?", type=_port, default=0,
                        help="the port to listen on (default 0: any free port, printed at start)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    mirror = MirrorServer(port=args.port)
    try:
        mirror.start()
    except OSError as exc:
        mirror.stop()  # the certificate's temporary directory
        print(f"python -m crawler.mirror: error: cannot listen on 127.0.0.1:{args.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        print(f"djcrawl mirror of {len(mirror.sites)} sites on {mirror.url} (Ctrl-C stops)", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        mirror.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
