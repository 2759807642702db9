"""Tools that maintain the book itself (not course material).

- ``booktools.book``: building the book (setup cells, editions, the HTML build).
- ``booktools.grading``: assignments and sandboxed autograding (security code).
"""
