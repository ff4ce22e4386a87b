#!/usr/bin/env python3
"""Signs requests with botocore's own S3 SigV4 signer, for sigv4_test's cross-check.

Reads a JSON list of requests on stdin, each
  {"method", "scheme", "host", "port" (0: the scheme's default), "path" (decoded),
   "query": [[name, value], ...] (decoded), "headers": [[name, value], ...],
   "body_hex", "unsigned_payload": bool, "access_key", "secret_key",
   "session_token" ("" for none), "region", "timestamp" ("20130524T000000Z")}
and prints a JSON list with, for each, the headers botocore's S3SigV4Auth added:
  {"Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"?}.

The encoding is botocore's too: the path as its REST serializer encodes a greedy
{Key+} label (percent_encode with '/' and '~' safe), the query from request.params
(which botocore encodes and sorts itself), the host from the URL. No Date header may
be given: with one, botocore signs Date instead of X-Amz-Date.
"""
import datetime
import json
import sys
from unittest import mock

import botocore.auth
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode


def fixed_clock(timestamp):
    """Patches the clock add_auth reads: get_current_datetime() in newer botocore
    releases, datetime.datetime.utcnow() in older ones (Debian bookworm's 1.29)."""
    fixed = datetime.datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ")
    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch("botocore.auth.get_current_datetime", lambda *args, **kwargs: fixed)

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return fixed

    return mock.patch("botocore.auth.datetime", mock.Mock(datetime=Fixed))


def sign(r):
    netloc = r["host"] if not r["port"] else "%s:%d" % (r["host"], r["port"])
    url = "%s://%s%s" % (r["scheme"], netloc, percent_encode(r["path"], safe="/~"))
    request = AWSRequest(method=r["method"], url=url, data=bytes.fromhex(r["body_hex"]),
                         params=[tuple(p) for p in r["query"]])
    for name, value in r["headers"]:
        request.headers[name] = value  # HTTPHeaders appends: repeated names are kept
    if r["unsigned_payload"]:
        request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    credentials = Credentials(r["access_key"], r["secret_key"], r["session_token"] or None)
    with fixed_clock(r["timestamp"]):
        S3SigV4Auth(credentials, "s3", r["region"]).add_auth(request)
    out = {}
    for name in ("Authorization", "X-Amz-Date", "X-Amz-Content-SHA256", "X-Amz-Security-Token"):
        if name in request.headers:
            out[name] = request.headers[name]
    return out


def main():
    json.dump([sign(r) for r in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
