"""The service layer: every use case a front end offers, each taking the acting user and returning
typed results. Role checks, masking and access logging happen here, so no front end can forget them.

May import every sub-package except ``cli``.
"""
