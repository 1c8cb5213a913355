# -*- coding: utf-8 -*-
# Copyright: central-auth contributors
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Lookup plugin returning the current Aruba Central access token from central-auth."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: token
author:
  - central-auth contributors
version_added: "0.1.0"
short_description: current HPE Aruba Networking Central API access token from central-auth
description:
  - "Returns the current access token of a central-auth profile, for an
    C(Authorization: Bearer ...) header or an
    C(ansible_httpapi_central_access_token) variable."
  - Runs the C(central-auth-ansible) program on the controller. It asks the same
    token broker as every other central-auth tool, so the rotating
    access/refresh pair is refreshed exactly once, whoever asks first. Ansible
    never refreshes on its own and never stores a token.
  - Ansible evaluates a lookup at every use. Each evaluation runs the program,
    which returns the stored token without a network call while it stays valid
    for O(min_valid).
  - "Use C(no_log: true) on tasks that send the token; the plugin itself never
    logs it (C(-vvv) shows only the profile and the expiry)."
  - On failure the play fails with the program's one-line message, which says how
    to fix it (for example run C(central-auth login --profile NAME)).
options:
  _terms:
    description:
      - Profile names. The lookup returns one token per term, in order.
      - Without terms it returns one token, for O(profile).
      - Terms take precedence over O(profile).
    required: false
    type: list
    elements: str
  profile:
    description:
      - The central-auth profile to use when no terms are given.
      - When unset, C(central-auth-ansible) uses C(CENTRAL_AUTH_PROFILE), else the
        configuration's C(default_profile).
    type: str
    env:
      - name: CENTRAL_AUTH_LOOKUP_PROFILE
    vars:
      - name: central_auth_profile
  min_valid:
    description:
      - How long the returned token must stay valid at least, as a central-auth
        duration (C(30s), C(5m), C(2h)). A token valid for less is refreshed
        first. Capped by central-auth at half the token's lifetime.
    type: str
    default: 5m
    vars:
      - name: central_auth_min_valid
  executable:
    description:
      - Path of the C(central-auth-ansible) program.
      - A bare name is searched for on the controller's C(PATH).
    type: str
    default: central-auth-ansible
    env:
      - name: CENTRAL_AUTH_ANSIBLE_BIN
    vars:
      - name: central_auth_executable
notes:
  - The program's exit codes are shared by every central-auth binary; the error
    message names the code, for example C(exit 3) means no usable token
    (run C(central-auth login) or C(central-auth import)) and C(exit 5) means
    Central, the network or the profile lock is busy (try again later).
seealso:
  - name: central-auth Ansible documentation
    description: Setup, configuration and error reference.
    link: https://example.invalid/central-auth/docs/ansible.md
"""

EXAMPLES = r"""
- name: Call the Central API with the current token
  ansible.builtin.uri:
    url: "{{ central_base_url }}/configuration/v2/groups?limit=1&offset=0"
    headers:
      Authorization: "Bearer {{ lookup('central_auth.central.token', profile='prod') }}"
  no_log: true

- name: Same, with the profile as a term and a longer minimum validity
  ansible.builtin.uri:
    url: "{{ central_base_url }}/monitoring/v2/aps"
    headers:
      Authorization: "Bearer {{ lookup('central_auth.central.token', 'prod', min_valid='15m') }}"
  no_log: true

- name: Feed the arubanetworks.aruba_central httpapi plugin
  ansible.builtin.set_fact:
    ansible_httpapi_central_access_token: "{{ lookup('central_auth.central.token') }}"
  no_log: true

- name: Tokens of two profiles at once
  ansible.builtin.set_fact:
    tokens: "{{ query('central_auth.central.token', 'prod', 'lab') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - The access token, one per term (one in all without terms).
  type: list
  elements: str
"""

import json
import os
import shutil
import subprocess

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

display = Display()

DEFAULT_EXECUTABLE = "central-auth-ansible"

# The shared central-auth exit codes, for the error message.
EXIT_CODES = {
    1: "other failure",
    2: "bad configuration or input",
    3: "no usable token",
    4: "Central rejected the client credentials or password",
    5: "try again later",
    6: "token store unusable",
}


def _resolve_executable(value):
    """The program's absolute path, or raise AnsibleError saying how to fix it."""
    value = to_native(value or DEFAULT_EXECUTABLE)
    if os.sep in value:
        path = os.path.expanduser(value)
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise AnsibleError(
                "central_auth.central.token: %s is not an executable file; fix "
                "central_auth_executable or CENTRAL_AUTH_ANSIBLE_BIN" % to_text(path)
            )
        return path
    found = shutil.which(value)
    if found is None:
        raise AnsibleError(
            "central_auth.central.token: %s was not found on the controller's PATH; "
            "install central-auth-ansible or set central_auth_executable "
            "(or CENTRAL_AUTH_ANSIBLE_BIN) to its path" % to_text(value)
        )
    return found


def _failure_line(stderr):
    """The program's message: its last non-empty stderr line (it writes one)."""
    lines = [line.strip() for line in to_text(stderr, errors="surrogate_or_replace").splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else ""


class LookupModule(LookupBase):
    """Runs central-auth-ansible once per profile and returns the access tokens."""

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        executable = _resolve_executable(self.get_option("executable"))
        min_valid = self.get_option("min_valid")

        if terms:
            profiles = []
            for term in terms:
                name = to_text(term).strip() if term is not None else ""
                if not name:
                    raise AnsibleError(
                        "central_auth.central.token: an empty profile name was given as a "
                        "term; pass profile names such as 'prod', or no terms for the default"
                    )
                profiles.append(name)
        else:
            option = self.get_option("profile")
            profiles = [to_text(option).strip() if option else None]

        return [self._token(executable, profile, min_valid) for profile in profiles]

    def _token(self, executable, profile, min_valid):
        """Runs the program for one profile (None: its default) and returns the token."""
        argv = [executable]
        if profile:
            argv += ["--profile", to_native(profile)]
        if min_valid:
            argv += ["--min-valid", to_native(min_valid)]
        shown = profile or "(default)"

        try:
            proc = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                shell=False,
                check=False,
            )
        except OSError as e:
            raise AnsibleError(
                "central_auth.central.token: cannot run %s: %s" % (to_text(executable), to_text(e))
            )

        if proc.returncode != 0:
            line = _failure_line(proc.stderr)
            meaning = EXIT_CODES.get(proc.returncode, "failure")
            if not line:
                line = "%s exited %d without a message" % (to_text(executable), proc.returncode)
            raise AnsibleError(
                "central_auth.central.token: profile %s: %s (exit %d: %s)"
                % (shown, line, proc.returncode, meaning)
            )

        # Never quote stdout in an error: it may hold the token.
        try:
            answer = json.loads(to_text(proc.stdout, errors="surrogate_or_strict"))
            token = answer["access_token"]
        except (ValueError, KeyError, TypeError):
            raise AnsibleError(
                "central_auth.central.token: profile %s: %s printed something that is not "
                "its JSON answer; check that central_auth_executable points at "
                "central-auth-ansible" % (shown, to_text(executable))
            )
        if not isinstance(token, str) or not token:
            raise AnsibleError(
                "central_auth.central.token: profile %s: the answer of %s holds no access "
                "token" % (shown, to_text(executable))
            )

        display.vvv(
            "central_auth.central.token: profile %s, token valid until %s"
            % (to_text(answer.get("profile", shown)), to_text(answer.get("expires_at", "?")))
        )
        return token
