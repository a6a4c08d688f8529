"""The clinical rules: one module per rule, the common three-valued result types and assess().

For training with synthetic patients; not a medical device.
"""
