"""Project data, no code: the site configs (``sites/*.toml``) and the seed reports
(``documents/*.txt``).

A package so that they travel inside every build of djcrawl (wheel, and the egg that
``scrapyd-deploy`` uploads, where they sit in a zip file): the code reads them with
:func:`importlib.resources.files` ``("seeds")``, never by a path beside the source.
"""
