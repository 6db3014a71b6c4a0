"""The one exception type the command line turns into a single error line."""

__all__ = ["DjcrawlError"]


class DjcrawlError(Exception):
    """An expected failure (bad input, locked database, bad config): its message is shown as is."""
