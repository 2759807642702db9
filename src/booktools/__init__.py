"""Tools that maintain the book itself (not course material): setup cells, editions, grading."""
