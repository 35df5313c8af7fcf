#!/usr/bin/env python3
"""Checks the Open311 GeoReport v2 endpoint with a third-party client, unmodified.

The client is `georeport` from PyPI (`python3 -m pip install georeport`), the maintained
Python 3 GeoReport v2 library. It reads (services, definitions, requests) in JSON and XML; it has
no call for creating requests, and the PyPI libraries that have one (`open311`, `three`) are
Python 2 only, so requests are filed with `requests` (the HTTP library georeport itself uses),
form-encoded as the spec says, and then read back through georeport.

Usage:
    scripts/open311-client-check.py BASE_URL API_KEY
e.g. with a demo server on :8080 and a key from
    hotline admin open311-key create check --data-dir ./data
run
    scripts/open311-client-check.py http://127.0.0.1:8080/open311/v2 KEY
Prints one line per check; exits non-zero on the first failure.
"""

import sys

import requests
from georeport import GeoReport


def as_list(value):
    """xmltodict gives a dict for a single repeated element and a list for several."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def check(what, ok):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        sys.exit(1)


def main(base, key):
    for fmt in ("json", "xml"):
        client = GeoReport(base, api_key=key, output_format=fmt)
        services = as_list(client.get_service_list())
        check(f"{fmt}: {len(services)} services", len(services) > 0)
        service = services[0]
        code = service["service_code"]
        check(f"{fmt}: service {service['service_name']} ({service['group']})", bool(code))

        definition = client.get_service_definition(code)
        attributes = definition["attributes"]
        if fmt == "xml":
            attributes = as_list(attributes["attribute"])
        codes = [a["code"] for a in attributes]
        check(f"{fmt}: definition attributes {codes}", "appeal_type" in codes)

        posted = requests.post(
            f"{base}/requests.{fmt}",
            data={
                "api_key": key,
                "service_code": code,
                "lat": "28.1941",
                "long": "112.9723",
                "description": f"open311-client-check ({fmt}): 路灯不亮 & <测试>",
                "attribute[appeal_type]": "help",
            },
            timeout=30,
        )
        check(f"{fmt}: POST requests -> {posted.status_code}", posted.status_code == 200)
        if fmt == "json":
            request_id = str(posted.json()[0]["service_request_id"])
        else:
            import xmltodict

            request_id = xmltodict.parse(posted.content)["service_requests"]["request"][
                "service_request_id"
            ]
        check(f"{fmt}: service_request_id {request_id}", len(request_id) == 14)

        one = client.get_service_request(request_id)
        check(
            f"{fmt}: GET request {request_id}: {one['status']}",
            str(one["service_request_id"]) == request_id and one["status"] == "open",
        )
        listed = as_list(client.get_service_requests(service_request_id=request_id))
        check(f"{fmt}: GET requests by id", [str(r["service_request_id"]) for r in listed] == [request_id])
        mine = as_list(client.get_service_requests(service_code=code, status="open"))
        check(
            f"{fmt}: GET requests by service_code and status: {len(mine)}",
            request_id in [str(r["service_request_id"]) for r in mine],
        )
    print("open311 client check passed")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1].rstrip("/"), sys.argv[2])
