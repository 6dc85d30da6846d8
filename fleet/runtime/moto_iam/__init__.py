"""moto's IAM enforcement corrected to refuse what AWS refuses, and allow what AWS allows.

moto 5.2.5 enforces IAM once `INITIAL_NO_AUTH_ACTION_COUNT` calls have gone through
unchecked, but a least-privilege policy does not behave there as on AWS: every call outside
SQS, IAM, STS and S3 is checked against "*", actions go by moto's names, trust policies
naming a service are 500s, JSON services' errors carry no code, presigned S3 requests are
500s, bodyless REST calls fail their signatures, and sessions never expire. Each module
here corrects one of those in moto's own process (the fleet's `aws` process), says what
moto does, what AWS does, and what it keeps of moto; together, a call the policy does not
allow fails locally as on AWS, with AWS's error code.

`install()` installs them all, once (again: nothing more). Every correction acts only while
moto enforces: with enforcement off (moto's default), moto answers exactly as before.
`enforce(True)` turns enforcement on for this process's server (after provisioning:
provisioning runs with moto's dummy credentials), `enforce(False)` off, `enforcing()` says
which; `switch` says how the same is done over HTTP, and what `/moto-api/reset` keeps.
"""

from __future__ import annotations

from fleet.runtime.moto_iam.switch import enforce, enforcing

__all__ = ["enforce", "enforcing", "install"]


def install() -> None:
    """Install every correction into this process's moto (idempotent; inert until enforcement)."""
    from fleet.runtime.moto_iam import actions, errors, resources, s3_signed, sessions, signatures, statements, trust

    signatures.install()  # a bodyless request is signed over an empty payload
    sessions.install()  # sessions found by key, refused once expired; DurationSeconds bounded
    statements.install()  # statements matched as IAM matches them (globs, NotResource, neutral)
    trust.install()  # trust policies name principals as IAM names them
    actions.install()  # IAM's action names
    resources.install()  # each call checked on the resources AWS checks (before `errors`: it wraps this)
    errors.install()  # auth errors in the request's protocol
    s3_signed.install()  # presigned POST forms and URLs
