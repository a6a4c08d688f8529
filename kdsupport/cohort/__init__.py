"""The synthetic cohort: generator, tables and outcome summaries.

For training with synthetic patients; not a medical device.
"""
