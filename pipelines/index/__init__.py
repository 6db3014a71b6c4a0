"""What the store indexes about a document: MinHash fingerprint and LSH bands
(``fingerprint``), closeness to the seed reports (``relevance``), and the entry that
carries both with the BM25 term counts (``entry``). Pure: no database here."""
