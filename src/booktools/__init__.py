"""Tools that maintain the book itself (not course material).

Setup cells, editions, grading.
"""
