"""The LTI 1.3 Advantage tool: OIDC login, launch, JWKS, deep linking, dynamic registration.

A validated launch becomes a :class:`~smeb_lti.lti.context.LaunchContext` stored server-side;
other parts read it with :func:`smeb_lti.lti.launches.get_launch`. Settings: see
:mod:`smeb_lti.settings` (read and validated once by ``create_app``).
"""
