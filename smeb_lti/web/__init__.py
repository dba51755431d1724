"""App-wide web concerns that no single blueprint owns: request limits, refusals of hostile input, security headers."""
