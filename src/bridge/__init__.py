"""ue-aws-stepfunctions: the Universal Extension archive (see extension.py)."""
