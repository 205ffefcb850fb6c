"""Shared PySpark code for the pipeline's Glue jobs; zipped and passed to Glue with --extra-py-files."""
