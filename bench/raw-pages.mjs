// The bench's raw floor: every page of a query fetched with bare keep-alive
// HTTP POSTs of GetQueryResults, no SDK, no signing, each answer
// JSON.parse'd and dropped, the next request sent as soon as the answer's
// NextToken is known. Nothing any client of Lake's wire can do costs less:
// it is the limit that issue 19 measures ctlake against (the SDK floor,
// queryPages through the real client, adds the SDK's middleware, signing and
// deserialisation on top of this).
//
// Contract: rawPages(url, queryId, { pageSize, onFirstPage }) resolves to
// { rows, pages, bytes: 0 } after the last page (no NextToken), and calls
// onFirstPage() once, right after the first answer is parsed: the earliest
// moment any exporter could have a row to write. Any answer other than
// HTTP 200, or a TotalResultsCount that differs from the rows read, rejects;
// there are no retries (the emulator in the bench injects no faults).
// A query that is not FINISHED yet is not waited for: the bench's queries are
// canned and finished before any case starts.
import { Agent, request } from 'node:http';

const TARGET = 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetQueryResults';

/** One POST on `agent`, its whole body as a string. */
function post(agent, url, body) {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': TARGET,
          'Content-Length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`raw floor: GetQueryResults answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          else resolve(text);
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function rawPages(url, queryId, { pageSize = 1000, onFirstPage } = {}) {
  // One socket, kept open between requests, as the SDK's own agent does.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    let rows = 0;
    let pages = 0;
    let total;
    let token;
    do {
      const body = JSON.stringify(token === undefined ? { QueryId: queryId, MaxQueryResults: pageSize } : { QueryId: queryId, MaxQueryResults: pageSize, NextToken: token });
      const answer = JSON.parse(await post(agent, url, body));
      if (pages === 0) onFirstPage?.();
      rows += answer.QueryResultRows?.length ?? 0;
      pages += 1;
      total = answer.QueryStatistics?.TotalResultsCount ?? total;
      token = answer.NextToken;
    } while (token);
    if (total !== undefined && total !== rows) throw new Error(`raw floor: read ${rows} rows, the service reported ${total}`);
    return { rows, pages, bytes: 0 };
  } finally {
    agent.destroy();
  }
}
