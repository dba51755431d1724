"""The player host: serves the course player to an LTI launch and takes its learner events.

Pure parts (no Flask, no database): :mod:`.course` (the course as the player sees it), :mod:`.events` (an event's
envelope and data checked), :mod:`.answers` (answers checked, quiz points and verdicts), :mod:`.statements` (the
xAPI statements of an event). Around them: :mod:`.store` (progress rows), :mod:`.apply` (one event applied in one
transaction), :mod:`.grades` (AGS scores), :mod:`.tokens` (per-launch values) and :mod:`.routes` (the Flask views).
"""
