"""The shipped classifier: ``mentalize-classifier.joblib`` and its metadata file."""
