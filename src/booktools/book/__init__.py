"""Building the book: its configuration, setup cells, editions and the HTML build.

Commands: ``python -m booktools.book.build``, ``python -m booktools.book.setup_cell``,
``python -m booktools.book.slim`` and ``python -m booktools.book.editions``.
"""
