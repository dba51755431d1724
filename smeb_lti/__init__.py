"""The LTI 1.3 tool and the composition root of SMEB (the Flask, database and HTTP edge)."""
