"""Reading hostile input files and writing outputs atomically.

For training with synthetic patients; not a medical device.
"""
