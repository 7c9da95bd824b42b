"""
One HTTP POST to a checked address (``addresses.Target``), and what came of it.

The connection goes to the IP address that was checked, never to the name again: TLS is verified
against the name (SNI and certificate), and the Host header carries it, so the receiver sees an
ordinary request to its name. A redirect is not followed (its target was never checked): it counts
as a failure that says where it pointed. Nothing is retried here; the ledger retries.
"""

from dataclasses import dataclass

import urllib3

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 10
BODY_SNIPPET = 200  # of a failing answer, kept in the delivery log


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str = ""


def post(target, *, body, headers):
    """POST ``body`` (bytes) to ``target``; an ``Outcome`` whatever happens, never an exception."""
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            target.ip, target.port, timeout=timeout, retries=False, maxsize=1,
            cert_reqs="CERT_REQUIRED", server_hostname=target.host, assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(target.ip, target.port, timeout=timeout, retries=False,
                                          maxsize=1)
    try:
        response = pool.urlopen("POST", target.path, body=body,
                                headers={**headers, "Host": target.host_header},
                                redirect=False, retries=False, preload_content=False,
                                assert_same_host=False)
        try:
            snippet = response.read(BODY_SNIPPET, decode_content=False)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as error:
        return Outcome(ok=False, error=_describe(error))
    finally:
        pool.close()
    status = response.status
    if 200 <= status < 300:
        return Outcome(ok=True, status_code=status)
    if 300 <= status < 400:
        where = response.headers.get("Location", "nowhere")
        return Outcome(ok=False, status_code=status,
                       error=f"Redirected to {where[:200]}: redirects are not followed.")
    text = snippet.decode("utf-8", "replace").strip()
    return Outcome(ok=False, status_code=status, error=f"HTTP {status}" + (f": {text}" if text else ""))


def _describe(error):
    reason = getattr(error, "reason", None) or error
    return f"{reason.__class__.__name__}: {reason}"[:500]
