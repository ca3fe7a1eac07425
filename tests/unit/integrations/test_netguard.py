"""``url_refusal``: a user's entry may not point the worker at internal addresses, in any spelling."""

from __future__ import annotations

import pytest

from runtime.integrations import url_refusal


@pytest.mark.parametrize("url, scope, refusal", [
    ("https://93.184.215.14/x", "user", None),
    ("http://127.0.0.1:8080/", "user", "private_network_needs_admin"),
    ("http://127.0.0.1:8080/", "global", None),
    ("http://10.1.2.3/", "user", "private_network_needs_admin"),
    ("http://10.1.2.3/", "org", None),
    ("http://169.254.169.254/latest/meta-data", "global", "address_forbidden"),  # cloud metadata: nobody
    ("http://[::1]/", "user", "private_network_needs_admin"),
    ("http://[::ffff:127.0.0.1]/", "user", "private_network_needs_admin"),
    # IPv6 spellings that route to an IPv4 address are judged by that address.
    ("http://[2002:7f00:1::]/", "user", "private_network_needs_admin"),  # 6to4 of 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "global", "address_forbidden"),  # NAT64 of 169.254.169.254
    ("http://[64:ff9b::5db8:d70e]/", "user", None),  # NAT64 of a public address
    ("http://localhost:99999/", "user", "invalid_url"),
    ("http://no-such-host.invalid/", "user", None),  # does not resolve: the connection fails later
])
async def test_url_refusal(url, scope, refusal):
    assert await url_refusal(url, scope) == refusal
