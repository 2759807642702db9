"""Assignments and autograding: security code, since it runs students' notebooks.

``assignment`` (the command, ``python -m booktools.grading.assignment``) makes the
student notebooks and grades submissions, several at a time, with ``grader``, which runs
each one through ``runner`` inside ``sandbox`` under ``bounds`` (with ``cgroups``, for
the whole submission) and checks its results outside it; ``tamper`` scans the student's
code for what an honest solution never does.
"""
