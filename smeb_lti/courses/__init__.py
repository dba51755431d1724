"""Courses in the tool: the catalogue of installed versions and the course a launch opens (:func:`launched_course`)."""
