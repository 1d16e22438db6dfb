"""The corpora shipped with the package: the written corpus, the real-talk corpus and the sample sessions."""
