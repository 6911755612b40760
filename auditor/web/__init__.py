"""The web application (``serve``): the boundary between people.

Real accounts (``auditor.followup.accounts``), server-side revocable sessions and CSRF tokens
(``auth``), security headers and the Starlette app (``app``), and the pages (``routes``), each
listed once in ``routes.ROUTES`` with who may open it. Pages call the services, so role rules,
masking and the access log are the same as on the command line.

May import every sub-package except ``cli``.
"""
