"""pycentral 1.4.3 scripts get their token from central-auth.

(pycentral 2.x, New Central and MSP tenants: ``central_auth_pycentral.new_central``.)

    from central_auth_pycentral import CentralAuthBase
    conn = CentralAuthBase(profile="prod")
    resp = conn.command(apiMethod="GET", apiPath="/monitoring/v1/aps")

``CentralAuthBase`` is pycentral's own ``ArubaCentralBase`` with its documented
extension points overridden:

* ``loadToken`` asks central-auth (the ``central-auth-ansible`` JSON program)
  for the current access token of the profile; pycentral's token file is
  never read.
* ``storeToken`` writes nothing: central-auth holds the chain.
* ``handleTokenExpiry`` (pycentral calls it on ``401 invalid_token``) reports
  the rejected token to central-auth and takes the refreshed one, so the
  broker refreshes once for every process on the chain instead of each script
  refreshing (and breaking the chain) on its own.
* ``refreshToken``/``createToken`` never talk to Central's token endpoint.

The helper is found as ``$CENTRAL_AUTH_ANSIBLE``, else ``central-auth-ansible``
on PATH. No token is ever passed on a command line or written to a file.
"""

import json
import os
import subprocess

from pycentral.base import ArubaCentralBase

__all__ = ["CentralAuthBase", "CentralAuthError", "fetch_token"]

HELPER_ENV = "CENTRAL_AUTH_ANSIBLE"
TIMEOUT_SECONDS = 60


class CentralAuthError(RuntimeError):
    """central-auth could not give a token; the message says what to do."""


def fetch_token(profile=None, rejected=None, helper=None):
    """Returns central-auth's answer: access_token, expires_at, base_url, profile.

    With ``rejected`` (an access token a server answered 401 invalid_token), that
    token is marked rejected first, so the answer is a refreshed one.
    """
    cmd = [helper or os.environ.get(HELPER_ENV) or "central-auth-ansible"]
    if profile:
        cmd += ["--profile", profile]
    if rejected:
        cmd.append("--reject-stdin")
    try:
        done = subprocess.run(
            cmd,
            input=(rejected + "\n") if rejected else "",
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise CentralAuthError(
            "cannot run %s: %s; install central-auth or set %s" % (cmd[0], err, HELPER_ENV)
        ) from None
    if done.returncode != 0:
        raise CentralAuthError(done.stderr.strip() or "%s exited %d" % (cmd[0], done.returncode))
    return json.loads(done.stdout)


class CentralAuthBase(ArubaCentralBase):
    """``ArubaCentralBase`` whose token comes from central-auth's profile."""

    def __init__(self, profile=None, central_info=None, helper=None, **kwargs):
        self._central_auth = {"profile": profile, "helper": helper}
        answer = fetch_token(profile, helper=helper)
        info = dict(central_info or {})
        if "cluster_name" not in info:
            info.setdefault("base_url", answer["base_url"])
        info["token"] = {"access_token": answer["access_token"]}
        kwargs.setdefault("token_store", None)
        super().__init__(central_info=info, **kwargs)

    def loadToken(self):
        answer = fetch_token(**self._central_auth)
        return {"access_token": answer["access_token"]}

    def storeToken(self, token):
        return True

    def handleTokenExpiry(self):
        rejected = (self.central_info.get("token") or {}).get("access_token")
        answer = fetch_token(rejected=rejected, **self._central_auth)
        self.central_info["token"] = {"access_token": answer["access_token"]}

    def refreshToken(self, old_token):
        return self.loadToken()

    def createToken(self):
        return self.loadToken()
