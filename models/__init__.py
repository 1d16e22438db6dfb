"""The shipped classifier: ``mentalize-classifier.npz`` (its arrays) and its metadata file.

The file names live here, not in :mod:`mentalize_nlp.classifier`, so that reading the
metadata (as the report does) never imports scikit-learn.
"""

ARTEFACT = "mentalize-classifier.npz"
METADATA = "mentalize-classifier.json"
