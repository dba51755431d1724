"""Delivery: statements (and LTI AGS scores) leave through a durable outbox, ONE worker and a sender per kind of destination.

The only part of :mod:`xapi` that uses a database (SQLAlchemy) and HTTP (httpx); it imports nothing of
``smeb_lti`` (the tool registers its AGS sender with the worker). Modules: ``tables`` (the two tables),
``outbox`` (enqueue, claim, settle), ``destinations`` (configured upstreams and the routing rule),
``sender`` (the Sender protocol and what senders share), ``worker`` (the loop), ``lrs_sender``,
``client`` (the LRS client) and ``query`` (the statement query client).
"""
