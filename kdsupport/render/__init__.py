"""Everything that turns an assessment or a case into text, HTML, plots or a report.

For training with synthetic patients; not a medical device.
"""
