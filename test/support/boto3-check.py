"""Drives the ctlake emulator with boto3, a client that is not ours.

Usage: python3 boto3-check.py ENDPOINT_URL
Prints one JSON object with what it saw; the vitest file asserts on it.
"""
import json
import sys
import time

import boto3
from botocore.config import Config

endpoint = sys.argv[1]
client = boto3.client(
    "cloudtrail",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="AKIDBOTO3",
    aws_secret_access_key="boto3-secret",
    config=Config(retries={"max_attempts": 1}),
)
seen = {}

stores = client.list_event_data_stores()["EventDataStores"]
seen["stores"] = [s["EventDataStoreArn"] for s in stores]
eds = stores[0]["EventDataStoreArn"]
eds_id = eds.split("/")[-1]

query_id = client.start_query(
    QueryStatement=f"SELECT eventSource, count(*) AS n FROM {eds_id} GROUP BY eventSource ORDER BY n DESC, eventSource"
)["QueryId"]
statuses = []
while True:
    status = client.describe_query(EventDataStore=eds, QueryId=query_id)["QueryStatus"]
    if not statuses or statuses[-1] != status:
        statuses.append(status)
    if status not in ("QUEUED", "RUNNING"):
        break
    time.sleep(0.02)
seen["statuses"] = statuses

rows, pages, token = [], 0, None
while True:
    kwargs = {"QueryId": query_id, "MaxQueryResults": 3}
    if token:
        kwargs["NextToken"] = token
    page = client.get_query_results(**kwargs)
    pages += 1
    rows.extend(page["QueryResultRows"])
    seen["total"] = page["QueryStatistics"]["TotalResultsCount"]
    token = page.get("NextToken")
    if not token:
        break
seen["rows"] = rows
seen["pages"] = pages

def error_code(call):
    try:
        call()
    except client.exceptions.ClientError as error:
        return error.response["Error"]["Code"]
    return None

seen["bad_sql"] = error_code(lambda: client.start_query(QueryStatement="SELEC eventName FRM nowhere"))
seen["unknown_id"] = error_code(lambda: client.describe_query(QueryId="0a1b2c3d-0000-4000-8000-00000000dead"))
print(json.dumps(seen))
