"""The knowledge base's typed models, one module per group of YAML files.

For training with synthetic patients; not a medical device.
"""
