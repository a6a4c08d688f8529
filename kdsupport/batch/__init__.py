"""Screening many records at once (records folders and cohort tables).

For training with synthetic patients; not a medical device.
"""
