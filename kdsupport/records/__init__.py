"""The case record: its model, validation messages, teaching section and the bundled cases.

For training with synthetic patients; not a medical device.
"""
