"""pycentral 2.x (New Central, GreenLake, MSP tenants) on the central-auth chain.

    from central_auth_pycentral.new_central import CentralAuthNewCentralBase
    conn = CentralAuthNewCentralBase(profile="acme")
    resp = conn.command("GET", "network-monitoring/v1alpha1/devices")

    from central_auth_pycentral.new_central import CentralAuthMSPBase
    msp = CentralAuthMSPBase(profile="msp", tenant_profiles={"<tenant id>": "acme"})
    tenant = msp.get_tenant_connection(tenant_workspace_id="<tenant id>")

pycentral 2.x keeps its token in memory, mints on a 401, and (given a file)
writes the token back into the user's credentials file; ``MSPBase`` mints a
new MSP token and exchanges again on every tenant 401. Here pycentral never
mints, exchanges or writes a token: its seams ask central-auth (the
``central-auth-ansible`` JSON program) instead.

* ``create_token(app)`` (pycentral calls it on a 401) reports the token the
  server rejected and takes central-auth's fresh one: one renewal for every
  process on the chain.
* ``MSPBase._exchange_tenant_token(id)`` (called for a new tenant connection
  and by ``TenantBase`` on a tenant 401) asks for the tenant profile's token,
  reporting the tenant token it handed out before as rejected when it is
  asked again. central-auth does the exchange once, under the tenant's lock.

Both use pycentral's ``unified`` mode, so one token serves the GLP and the
Central routes. The credential keys pycentral insists on are placeholders: no
secret ever reaches pycentral.
"""

# pycentral 2.x maps ``pycentral.base`` and ``pycentral.msp`` to its classic
# modules; the New Central classes are the package's own names.
from pycentral import MSPBase, NewCentralBase

from . import CentralAuthError, fetch_token

__all__ = ["CentralAuthNewCentralBase", "CentralAuthMSPBase", "CentralAuthError"]

GLP_BASE_URL = "https://global.api.greenlake.hpe.com"
_PLACEHOLDER = "central-auth"


def _unified(answer, glp_base_url):
    return {
        "unified": {
            "client_id": _PLACEHOLDER,
            "client_secret": _PLACEHOLDER,
            "workspace_id": _PLACEHOLDER,
            "base_url": answer["base_url"],
            "glp_base_url": glp_base_url or GLP_BASE_URL,
            "access_token": answer["access_token"],
        }
    }


class _CentralAuthTokens:
    """The ``create_token`` every provider class shares."""

    def _central_auth_init(self, profile, helper, glp_base_url):
        self._central_auth = {"profile": profile, "helper": helper}
        return _unified(fetch_token(profile, helper=helper), glp_base_url)

    def create_token(self, app_name):
        rejected = (self.token_info.get(app_name) or {}).get("access_token")
        answer = fetch_token(rejected=rejected, **self._central_auth)
        self.token_info[app_name]["access_token"] = answer["access_token"]
        return answer["access_token"]


class CentralAuthNewCentralBase(_CentralAuthTokens, NewCentralBase):
    """``NewCentralBase`` whose token comes from a central-auth profile
    (client credentials, unified, or a tenant profile)."""

    def __init__(self, profile=None, helper=None, glp_base_url=None, **kwargs):
        token_info = self._central_auth_init(profile, helper, glp_base_url)
        super().__init__(token_info, **kwargs)


class CentralAuthMSPBase(_CentralAuthTokens, MSPBase):
    """``MSPBase`` on an MSP profile; each tenant is a central-auth tenant
    profile (``central-auth tenants --profile MSP --write-profiles``), named in
    ``tenant_profiles`` by tenant workspace id (with or without dashes)."""

    def __init__(self, profile=None, tenant_profiles=None, helper=None, glp_base_url=None, **kwargs):
        self._tenant_profiles = {
            str(k).replace("-", "").lower(): v for k, v in (tenant_profiles or {}).items()
        }
        self._tenant_tokens = {}
        token_info = self._central_auth_init(profile, helper, glp_base_url)
        super().__init__(token_info, **kwargs)

    def _exchange_tenant_token(self, tenant_workspace_id):
        key = str(tenant_workspace_id).replace("-", "").lower()
        profile = self._tenant_profiles.get(key)
        if profile is None:
            raise CentralAuthError(
                "no central-auth tenant profile for tenant %s; add one "
                "(central-auth tenants --profile MSP --write-profiles) and name it in tenant_profiles" % key
            )
        conn = self._tenant_connections.get(key)
        rejected = conn.token_info["unified"].get("access_token") if conn else None
        answer = fetch_token(profile, rejected=rejected, helper=self._central_auth["helper"])
        return answer["access_token"]
