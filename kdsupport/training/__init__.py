"""Training: question answers derived from the rules, grading and the attempt log.

For training with synthetic patients; not a medical device.
"""
