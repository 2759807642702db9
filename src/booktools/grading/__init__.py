"""Assignments and autograding: security code, since it runs students' notebooks.

``assignment`` (the command, ``python -m booktools.grading.assignment``) makes the
student notebooks and grades submissions with ``grader``, which runs each one through
``runner`` inside ``sandbox`` and checks its results outside it; ``tamper`` scans the
student's code for what an honest solution never does.
"""
